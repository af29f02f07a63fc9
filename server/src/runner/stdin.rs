//! The CLI's stdin: a FIFO in the spool folder, opened read-write as the child's stdin.
//!
//! Read-write, because a FIFO whose last writer goes away reads as end of input: were the server
//! the only writer, its death would end the CLI's input and the CLI with it, losing a question it
//! waits on. The child holds a writer itself, so it never sees the end and keeps waiting; a
//! restarted server opens the FIFO again and answers. The CLI never ends by itself for lack of
//! input, which is why a task is ended by signal once its `result` is read.

use nix::sys::stat::Mode;
use std::io;
use std::path::Path;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;

pub struct Stdin {
    writer: tokio::sync::Mutex<pipe::Sender>,
}

impl Stdin {
    /// Makes the FIFO (0600) and opens the end the child reads from.
    pub fn create(path: &Path) -> io::Result<std::fs::File> {
        match std::fs::remove_file(path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        nix::unistd::mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR).map_err(io::Error::from)?;
        std::fs::OpenOptions::new().read(true).write(true).open(path)
    }

    /// Our writing end, for a FIFO made by [`Stdin::create`] (now or before a restart).
    pub fn open(path: &Path) -> io::Result<Self> {
        let writer = pipe::OpenOptions::new().read_write(true).open_sender(path)?;
        Ok(Self { writer: tokio::sync::Mutex::new(writer) })
    }

    /// Writes one line (a newline is added). Lines from concurrent callers never interleave.
    pub async fn write_line(&self, line: &str) -> io::Result<()> {
        let mut writer = self.writer.lock().await;
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        writer.write_all(&bytes).await?;
        writer.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    #[tokio::test]
    async fn lines_written_reach_the_reader_and_a_new_writer_carries_on_after_the_first_is_gone() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("task.in");
        let child_end = Stdin::create(&path)?;
        {
            let first = Stdin::open(&path)?;
            first.write_line("{\"a\":1}").await?;
        }
        // The first writer is gone (a server that died): the reader has not seen the end.
        let second = Stdin::open(&path)?;
        let long = "x".repeat(200_000);
        let writing = tokio::spawn(async move { second.write_line(&long).await });
        let lines = tokio::task::spawn_blocking(move || {
            let mut reader = std::io::BufReader::new(child_end);
            let (mut first, mut second) = (String::new(), String::new());
            reader.read_line(&mut first)?;
            reader.read_line(&mut second)?;
            Ok::<_, io::Error>((first, second))
        });
        let (first, second) = lines.await.map_err(io::Error::other)??;
        writing.await.map_err(io::Error::other)??;
        assert_eq!(first, "{\"a\":1}\n");
        assert_eq!(second.len(), 200_001, "a line longer than the pipe's buffer arrives whole");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        Ok(())
    }
}
