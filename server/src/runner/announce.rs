//! Telling the owner's devices (Web Push) that a task ended or waits on them. The payload is
//! built on a task of its own (a store read and the session's title, on the blocking pool) and
//! dropped in the push channel: the runner never waits for any of it.

use super::Inner;
use crate::push::payload;
use serde_json::Value;
use uuid::Uuid;

pub enum What {
    /// The task's outcome is stored.
    Ended,
    /// The CLI asks for a decision (a tool's approval, or a question).
    Waiting { approval_id: String, tool_name: String, input: Value },
}

impl Inner {
    pub(super) fn announce(&self, task_id: Uuid, what: What) {
        if !self.notifier.enabled() {
            return;
        }
        // Called from the blocking pool too (reading output), which runs inside the runtime.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (store, projects, notifier) = (self.store.clone(), self.projects.clone(), self.notifier.clone());
        runtime.spawn(async move {
            let built = tokio::task::spawn_blocking(move || {
                let task = store.get_task(task_id).ok().flatten()?;
                let mark = store.session_mark(task.session_id).ok().flatten().unwrap_or_default();
                if mark.deleted {
                    return None;
                }
                // The user's own title first, as the session list shows it.
                let title = mark.title.or_else(|| projects.locate(task.session_id, task.project.as_deref())?.index.title(task.session_id));
                match what {
                    What::Ended => payload::ended(&task, title),
                    What::Waiting { approval_id, tool_name, input } => Some(payload::waiting(&task, title, &approval_id, &tool_name, &input)),
                }
            })
            .await;
            if let Ok(Some(payload)) = built {
                notifier.send(payload);
            }
        });
    }
}
