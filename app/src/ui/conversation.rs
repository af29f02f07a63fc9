//! What the chat shows: the CLI's transcript merged with the tasks this service ran in the
//! session, so that costs, failures (which the transcript may not record) and a task still
//! running all appear in the right place.

use crate::api::{Role, TaskStatus, TaskView, ToolCall, Turn};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    User { text: String },
    /// `task_id` when the reply came from a task run here (its folded timeline can be shown).
    Assistant { text: String, tools: Vec<ToolCall>, cost_usd: Option<f64>, turns: Option<u64>, task_id: Option<Uuid> },
    Failure { reason: String, cancelled: bool, task_id: Option<Uuid> },
    /// A task of this session still queued (with how many are ahead of it) or running. Until the
    /// machine accepts the message, `task_id` is the message's own id (see `outbox`).
    Working { task_id: Uuid, since_ms: i64, queued: bool, ahead: Option<u32> },
    /// A message the machine has not accepted (yet): kept, with why, and sent again by itself
    /// when `automatic`.
    Unsent { id: Uuid, reason: Option<String>, automatic: bool },
}

/// Cost and turns of a finished task's result.
pub fn result_numbers(task: &TaskView) -> (Option<f64>, Option<u64>) {
    let result = task.result.as_ref();
    (
        result.and_then(|r| r.get("total_cost_usd")).and_then(|v| v.as_f64()),
        result.and_then(|r| r.get("num_turns")).and_then(|v| v.as_u64()),
    )
}

/// The reply text of a finished task, straight from its result.
pub fn reply_entry(task: &TaskView) -> Entry {
    match task.status {
        TaskStatus::Completed => {
            let (cost_usd, turns) = result_numbers(task);
            let text = task.result.as_ref().and_then(|r| r.get("result")).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            Entry::Assistant { text, tools: Vec::new(), cost_usd, turns, task_id: Some(task.task_id) }
        }
        TaskStatus::Queued | TaskStatus::Processing => Entry::Working {
            task_id: task.task_id,
            since_ms: task.started_at.unwrap_or(task.created_at),
            queued: task.status == TaskStatus::Queued,
            ahead: task.queue_position,
        },
        status => Entry::Failure {
            reason: task.error.clone().unwrap_or_else(|| "the task failed".to_owned()),
            cancelled: status == TaskStatus::Cancelled,
            task_id: Some(task.task_id),
        },
    }
}

/// What the CLI writes into the transcript when a task is interrupted before it replied.
const NO_RESPONSE: &str = "No response requested.";

pub fn build(turns: &[Turn], tasks: &[TaskView]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = turns
        .iter()
        .filter_map(|turn| match turn.role {
            Role::User => Some(Entry::User { text: turn.text.clone() }),
            // The CLI's words after an interrupt: the task was stopped, nothing was replied.
            Role::Assistant if turn.synthetic && turn.text.trim() == NO_RESPONSE => None,
            // An API error the CLI wrote into the transcript: a failure, not a reply.
            Role::Assistant if turn.synthetic => Some(Entry::Failure { reason: turn.text.clone(), cancelled: false, task_id: None }),
            Role::Assistant => {
                Some(Entry::Assistant { text: turn.text.clone(), tools: turn.tools.clone(), cost_usd: None, turns: None, task_id: None })
            }
        })
        .collect();
    // Tasks in submit order are matched to user prompts in transcript order.
    let mut cursor = 0;
    for task in tasks {
        let found = entries[cursor..]
            .iter()
            .position(|e| matches!(e, Entry::User { text } if text.trim() == task.message.trim()))
            .map(|offset| cursor + offset);
        let Some(prompt) = found else {
            // Not in the transcript (yet, or the CLI never got that far): show it at the end.
            entries.push(Entry::User { text: task.message.clone() });
            entries.push(reply_entry(task));
            cursor = entries.len();
            continue;
        };
        let answer_end = entries[prompt + 1..]
            .iter()
            .position(|e| matches!(e, Entry::User { .. }))
            .map_or(entries.len(), |offset| prompt + 1 + offset);
        match task.status {
            TaskStatus::Completed => {
                let (cost, num_turns) = result_numbers(task);
                let answered = entries[prompt + 1..answer_end].iter_mut().rev().find_map(|e| match e {
                    Entry::Assistant { cost_usd, turns, task_id, .. } => Some((cost_usd, turns, task_id)),
                    _ => None,
                });
                match answered {
                    Some((cost_usd, turns, task_id)) => {
                        *cost_usd = cost;
                        *turns = num_turns;
                        *task_id = Some(task.task_id);
                    }
                    None => entries.insert(answer_end, reply_entry(task)),
                }
            }
            // Running, and the latest turn of the transcript: what the transcript has after its
            // prompt is this task's own words so far (the CLI writes as it goes, and its last
            // words land just before the task is recorded as ended), which its live entry shows.
            // Once, there: else the reply shows twice until the task's end is read.
            TaskStatus::Processing if answer_end == entries.len() => {
                entries.truncate(prompt + 1);
                entries.push(reply_entry(task));
            }
            _ => {
                // The transcript's own note of this failure: the task's outcome says it, once.
                let noted = entries[prompt + 1..answer_end].iter().position(|e| matches!(e, Entry::Failure { task_id: None, .. }));
                let at = match noted {
                    Some(offset) => {
                        entries.remove(prompt + 1 + offset);
                        answer_end - 1
                    }
                    None => answer_end,
                };
                entries.insert(at, reply_entry(task));
            }
        }
        cursor = prompt + 1;
    }
    entries
}

/// What the session cost through this service.
pub fn total_cost(tasks: &[TaskView]) -> f64 {
    tasks.iter().filter_map(|t| result_numbers(t).0).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn turn(role: Role, text: &str) -> Turn {
        Turn { role, text: text.into(), tools: Vec::new(), timestamp: None, synthetic: false }
    }

    fn synthetic(text: &str) -> Turn {
        Turn { synthetic: true, ..turn(Role::Assistant, text) }
    }

    fn task(message: &str, status: TaskStatus, result: Option<serde_json::Value>, error: Option<&str>) -> TaskView {
        TaskView {
            status,
            task_id: Uuid::new_v4(),
            session_id: Uuid::nil(),
            result,
            error: error.map(str::to_owned),
            message: message.into(),
            created_at: 1,
            started_at: Some(2),
            finished_at: None,
            events: 0,
            queue_position: None,
            progress: None,
            pending_approvals: Vec::new(),
        }
    }

    #[test]
    fn costs_attach_to_their_replies_and_failures_follow_their_prompt() {
        let turns = [
            turn(Role::User, "one"),
            turn(Role::Assistant, "reply one"),
            turn(Role::User, "two"),
            turn(Role::Assistant, "API Error: 529"),
            turn(Role::User, "three"),
        ];
        let tasks = [
            task("one", TaskStatus::Completed, Some(json!({"result": "reply one", "total_cost_usd": 0.5, "num_turns": 2})), None),
            task("two", TaskStatus::Failed, None, Some("API Error: 529 overloaded")),
            task("three", TaskStatus::Processing, None, None),
        ];
        let entries = build(&turns, &tasks);
        assert!(matches!(&entries[1], Entry::Assistant { cost_usd: Some(c), turns: Some(2), .. } if *c == 0.5));
        assert!(matches!(&entries[4], Entry::Failure { reason, cancelled: false, .. } if reason.contains("529")), "{entries:?}");
        assert!(matches!(entries.last(), Some(Entry::Working { queued: false, .. })));
        assert_eq!(total_cost(&tasks), 0.5);
    }

    #[test]
    fn an_api_error_shows_once_and_a_stopped_task_has_no_made_up_reply() {
        let turns = [
            turn(Role::User, "one"),
            synthetic("API Error: 529 Overloaded"),
            turn(Role::User, "two"),
            synthetic("No response requested."),
            turn(Role::User, "from the terminal"),
            synthetic("API Error: 500 Internal server error"),
        ];
        let tasks = [
            task("one", TaskStatus::Failed, None, Some("API Error: 529 Overloaded")),
            task("two", TaskStatus::Cancelled, None, Some("stopped by the user")),
        ];
        let entries = build(&turns, &tasks);
        let failures: Vec<&Entry> = entries.iter().filter(|e| matches!(e, Entry::Failure { .. })).collect();
        assert_eq!(failures.len(), 3, "{entries:?}");
        assert!(matches!(&entries[1], Entry::Failure { reason, task_id: Some(_), cancelled: false } if reason.contains("529")), "{entries:?}");
        assert!(matches!(&entries[3], Entry::Failure { cancelled: true, .. }), "{entries:?}");
        assert!(!entries.iter().any(|e| matches!(e, Entry::Assistant { .. })), "no reply was made up: {entries:?}");
        // Where no task of ours ran, the CLI's note is the only word of the failure.
        assert!(matches!(&entries[5], Entry::Failure { reason, task_id: None, .. } if reason.contains("500")), "{entries:?}");
    }

    #[test]
    fn a_task_missing_from_the_transcript_is_shown_at_the_end() {
        let turns = [turn(Role::User, "from the terminal"), turn(Role::Assistant, "ok")];
        let tasks = [task("never reached the CLI", TaskStatus::Failed, None, Some("No conversation found"))];
        let entries = build(&turns, &tasks);
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[2], Entry::User { text: "never reached the CLI".into() });
        assert!(matches!(&entries[3], Entry::Failure { reason, .. } if reason == "No conversation found"));
    }

    #[test]
    fn a_running_task_shows_once_even_when_the_transcript_has_its_words() {
        let turns = [
            turn(Role::User, "one"),
            turn(Role::Assistant, "reply one"),
            turn(Role::User, "two"),
            turn(Role::Assistant, "Fake reply to: two"),
        ];
        let tasks = [
            task("one", TaskStatus::Completed, Some(json!({"result": "reply one", "total_cost_usd": 0.5})), None),
            task("two", TaskStatus::Processing, None, None),
        ];
        let entries = build(&turns, &tasks);
        assert_eq!(entries.len(), 4, "{entries:?}");
        assert!(matches!(&entries[1], Entry::Assistant { text, .. } if text == "reply one"), "an earlier reply stays: {entries:?}");
        assert!(matches!(&entries[3], Entry::Working { queued: false, .. }), "{entries:?}");
        // Once it has ended, the transcript's reply is the one shown.
        let ended = [tasks[0].clone(), task("two", TaskStatus::Completed, Some(json!({"result": "Fake reply to: two"})), None)];
        let entries = build(&turns, &ended);
        assert_eq!(entries.len(), 4, "{entries:?}");
        assert!(matches!(&entries[3], Entry::Assistant { text, .. } if text == "Fake reply to: two"), "{entries:?}");
    }

    #[test]
    fn a_reply_not_yet_in_the_transcript_comes_from_the_result() {
        let turns = [turn(Role::User, "hi")];
        let tasks = [task("hi", TaskStatus::Completed, Some(json!({"result": "hello", "total_cost_usd": 0.1})), None)];
        let entries = build(&turns, &tasks);
        assert!(matches!(&entries[1], Entry::Assistant { text, .. } if text == "hello"));
    }
}
