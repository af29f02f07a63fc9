//! argon2 verifications on a fixed number of dedicated threads, each reusing one memory block.
//!
//! One verification needs ~19 MiB. Run on the blocking pool, each new thread would get its own
//! malloc arena and keep a freed block in it: 400 concurrent guesses once left 300 MiB resident
//! with only two verifications ever running at once. Here memory is fixed at
//! `threads × block` whatever the load, and a guess that finds every thread busy for longer
//! than the wait is told to come back instead of queueing without bound.

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::{oneshot, Semaphore};

/// Every verification thread was busy for the whole wait.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

struct Job {
    password: String,
    reply: oneshot::Sender<bool>,
}

pub struct Verifier {
    jobs: SyncSender<Job>,
    /// One permit per thread: a job is only sent when a thread is free to take it.
    free: Semaphore,
    wait: Duration,
}

impl Verifier {
    /// `threads` dedicated threads verifying against `phc`; they end when the verifier is dropped.
    pub fn new(phc: &str, threads: usize, wait: Duration) -> Self {
        let (jobs, queue) = sync_channel::<Job>(threads);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let (queue, phc) = (queue.clone(), phc.to_owned());
            let spawned = std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || work(&queue, &phc));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password verification thread");
            }
        }
        Self { jobs, free: Semaphore::new(threads), wait }
    }

    /// Whether `password` matches, or `Busy` when no thread came free within the wait.
    pub async fn verify(&self, password: &str) -> Result<bool, Busy> {
        let Ok(Ok(_permit)) = tokio::time::timeout(self.wait, self.free.acquire()).await else { return Err(Busy) };
        let (reply, answer) = oneshot::channel();
        if self.jobs.try_send(Job { password: password.to_owned(), reply }).is_err() {
            return Err(Busy);
        }
        Ok(answer.await.unwrap_or(false))
    }
}

fn work(queue: &Mutex<Receiver<Job>>, phc: &str) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let _ = job.reply.send(matches(phc, job.password.as_bytes(), &mut memory));
    }
}

/// argon2 verification into a caller-kept memory block (what `PasswordVerifier` does, minus its
/// allocation per call).
pub fn matches(phc: &str, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(&hash)) else { return false };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else { return false };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else { return false };
    let mut salt_buffer = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buffer) else { return false };
    memory.resize(params.block_count(), Block::default());
    let mut output = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params);
    if argon2.hash_password_into_with_memory(password, salt, &mut output, &mut memory[..]).is_err() {
        return false;
    }
    output.ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_like_argon2_itself_and_reuses_its_memory() {
        let phc = crate::auth::hash_password("right").expect("hash");
        let verifier = Verifier::new(&phc, 1, Duration::from_secs(5));
        assert_eq!(verifier.verify("right").await, Ok(true));
        assert_eq!(verifier.verify("wrong").await, Ok(false));
        let mut memory = Vec::new();
        assert!(matches(&phc, b"right", &mut memory));
        let capacity = memory.capacity();
        assert!(!matches(&phc, b"wrong", &mut memory));
        assert_eq!(memory.capacity(), capacity, "no new allocation");
    }

    #[tokio::test]
    async fn a_guess_that_finds_every_thread_busy_is_told_to_come_back() {
        let phc = crate::auth::hash_password("right").expect("hash");
        let verifier = Arc::new(Verifier::new(&phc, 1, Duration::from_millis(1)));
        let guesses: Vec<_> = (0..20).map(|_| { let v = verifier.clone(); tokio::spawn(async move { v.verify("guess").await }) }).collect();
        let mut busy = 0;
        for guess in guesses {
            busy += usize::from(guess.await.expect("joined") == Err(Busy));
        }
        assert!(busy > 0, "twenty guesses at once, one thread, no wait");
    }
}
