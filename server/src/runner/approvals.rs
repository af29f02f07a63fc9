//! Deciding what a waiting CLI asked permission for: from a client (allow, deny, remember for the
//! session), or by the clock once an approval has waited longer than the approval timeout.
//!
//! A decision first claims its approval in the store (exactly one decision wins; a second gets
//! 409), then is written to the CLI's stdin, then recorded in the task's output as an
//! `approval_decided` line, so the event stream and a restarted server see it in order.

use super::stdin::Stdin;
use super::{now_ms, Inner, Runner, RunnerError};
use crate::claude::control::{self, Answer};
use crate::store::{ApprovalRecord, AuditEntry};
use app::api::{ApprovalDecision, ApprovalStatus, Caller, DecidedApproval, Decision, SessionRef, TaskStatus};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// The longest reason a deny may carry to the model.
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// How often waiting approvals are checked against the approval timeout.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("no approval {0} waits in this task")]
    NotFound(String),
    #[error("approval {id} was already {status}")]
    Settled { id: String, status: &'static str },
    #[error("{0}")]
    Invalid(String),
}

/// Approval ids are the CLI's request ids (UUIDs); anything else names nothing.
pub fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check(decision: &ApprovalDecision) -> Result<(), ApprovalError> {
    if let Some(message) = &decision.message
        && (message.chars().count() > MAX_MESSAGE_CHARS || message.contains('\0')) {
        return Err(ApprovalError::Invalid(format!("message must be at most {MAX_MESSAGE_CHARS} characters, without NUL")));
    }
    match (&decision.updated_input, decision.decision) {
        (Some(input), Decision::Allow) if !input.is_object() => Err(ApprovalError::Invalid("updated_input must be a JSON object".into())),
        (Some(_), Decision::Deny) => Err(ApprovalError::Invalid("updated_input goes with allow, not deny".into())),
        (_, Decision::Deny) if decision.remember.is_some() => Err(ApprovalError::Invalid("remember goes with allow, not deny".into())),
        _ => Ok(()),
    }
}

impl Runner {
    /// Decides approval `id` of a running task, as `caller`.
    pub async fn decide(
        &self,
        caller: &Caller,
        session: SessionRef,
        task_id: Uuid,
        id: &str,
        decision: ApprovalDecision,
    ) -> Result<DecidedApproval, RunnerError> {
        if !valid_id(id) {
            return Err(ApprovalError::NotFound(id.to_owned()).into());
        }
        check(&decision)?;
        let task = self.owned_task(session, task_id).await?;
        let request_id = id.to_owned();
        let record =
            self.inner.store.run(move |store| store.approval(task_id, &request_id)).await?.ok_or_else(|| ApprovalError::NotFound(id.to_owned()))?;
        if task.status != TaskStatus::Processing {
            return Err(ApprovalError::Settled { id: id.to_owned(), status: "withdrawn: its task has ended" }.into());
        }
        let who = caller.username.clone().unwrap_or_else(|| "unknown".into());
        settle(&self.inner, record, decision, &who, caller).await
    }

    /// Denies every approval that waited longer than the approval timeout, every second.
    pub fn spawn_approval_timeouts(&self) {
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                let Some(inner) = inner.upgrade() else { return };
                let timeout = inner.settings.approval_timeout;
                let before = now_ms() - timeout.as_millis() as i64;
                let waiting = inner.store.run(move |store| store.approvals_waiting_since(before)).await.unwrap_or_default();
                for record in waiting {
                    let (task_id, id) = (record.task_id, record.request.id.clone());
                    let message = format!("No answer within {}: denied automatically.", humantime::format_duration(timeout));
                    let decision = ApprovalDecision { decision: Decision::Deny, message: Some(message), updated_input: None, remember: None };
                    if let Err(error) = settle(&inner, record, decision, "approval timeout", &Caller::default()).await {
                        tracing::debug!(%task_id, %id, %error, "an expired approval was settled meanwhile");
                    }
                }
            }
        });
    }
}

async fn settle(inner: &Inner, record: ApprovalRecord, decision: ApprovalDecision, who: &str, caller: &Caller) -> Result<DecidedApproval, RunnerError> {
    let ApprovalRecord { task_id, request, .. } = &record;
    let (task_id, id) = (*task_id, request.id.clone());
    let status = match decision.decision {
        Decision::Allow => ApprovalStatus::Allowed,
        Decision::Deny => ApprovalStatus::Denied,
    };
    let message = match decision.decision {
        Decision::Deny => Some(decision.message.clone().unwrap_or_else(|| "Denied from the phone.".into())),
        Decision::Allow => None,
    };
    let now = now_ms();
    let (settled_id, settled_message, remember) = (id.clone(), message.clone(), decision.remember);
    let settled = inner
        .store
        .run(move |store| {
            if store.settle_approval(task_id, &settled_id, status, settled_message.as_deref(), remember, now)? {
                return Ok(None);
            }
            Ok(Some(store.approval(task_id, &settled_id)?.map_or(ApprovalStatus::Withdrawn, |a| a.status)))
        })
        .await?;
    if let Some(status) = settled {
        return Err(ApprovalError::Settled { id, status: status.as_str() }.into());
    }
    let answer = Answer {
        request_id: id.clone(),
        decision: decision.decision,
        message: message.clone(),
        input: decision.updated_input.clone().unwrap_or_else(|| request.input.clone()),
        remember: decision.remember.map(|r| (r, request.suggestions.clone())),
    };
    // Recorded first, so the output holds the decision before anything the CLI does after it.
    let record_line = control::decision_record(&answer, &request.tool_name, who);
    if let Err(error) = append_line(&inner.output_path(task_id), &record_line).await {
        tracing::warn!(%task_id, %error, "cannot record a decision in the task's output");
    }
    if let Err(error) = send(inner, task_id, &control::response(&answer)).await {
        tracing::warn!(%task_id, %error, "cannot answer the CLI");
        let withdrawn = id.clone();
        let _ = inner.store.run(move |store| store.withdraw_approval(task_id, &withdrawn, now)).await;
        return Err(ApprovalError::Settled { id, status: "withdrawn: its CLI no longer reads" }.into());
    }
    audit(inner, caller, who, &record, status).await;
    let _ = inner.activity.send(task_id);
    let decided = inner.store.run(move |store| store.approval(task_id, &id)).await?.map(|a| a.decided());
    Ok(decided.unwrap_or_else(|| record.decided()))
}

/// Writes a line to the task's CLI: through the stdin its follower holds, or, before a restarted
/// server's follower has picked the task up again, through the FIFO opened anew.
async fn send(inner: &Inner, task_id: Uuid, line: &str) -> std::io::Result<()> {
    match inner.stdin(task_id) {
        Some(stdin) => stdin.write_line(line).await,
        None => Stdin::open(&inner.stdin_path(task_id))?.write_line(line).await,
    }
}

/// Appends to the CLI's output file, which the CLI writes with O_APPEND too: each line lands
/// whole at the end, after what the CLI wrote before it.
async fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    let mut file = tokio::fs::OpenOptions::new().append(true).open(path).await?;
    file.write_all(format!("{line}\n").as_bytes()).await
}

async fn audit(inner: &Inner, caller: &Caller, who: &str, record: &ApprovalRecord, status: ApprovalStatus) {
    let summary = crate::claude::stream::summarize_tool(&record.request.tool_name, &record.request.input);
    let by = Caller { address: caller.address, username: Some(who.to_owned()) };
    let entry = AuditEntry::now(format!("approval_{}", status.as_str()), &by).task(record.task_id).detail(summary);
    if let Err(error) = inner.store.run(move |store| store.append_audit(&entry)).await {
        tracing::warn!(%error, "cannot write the audit log");
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_decision_body_is_checked_before_anything_is_sent() {
        let deny = |message: &str| ApprovalDecision { decision: Decision::Deny, message: Some(message.into()), updated_input: None, remember: None };
        assert!(check(&deny("not now")).is_ok());
        assert!(check(&deny(&"x".repeat(MAX_MESSAGE_CHARS + 1))).is_err());
        assert!(check(&deny("nul\0")).is_err());
        let allow = ApprovalDecision { decision: Decision::Allow, message: None, updated_input: Some(Value::from(3)), remember: None };
        assert!(check(&allow).is_err(), "updated_input must be an object");
        assert!(valid_id("58577b37-0e76-46a1-92a8-6612e688ebaa") && !valid_id("../x") && !valid_id(""));
    }
}
