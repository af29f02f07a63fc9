//! A task's steps as the conversation shows them: live while it runs, folded above its reply
//! when it ends, and after a reload loaded when opened (the summary comes with the task).

use super::live::{steps_of, trim, KEPT_STEPS};
use crate::api::timeline::{background_text, decided_text, model_name, plural, truncate_chars, truncated_text, Progress, TimelineItem};
use leptos::prelude::*;
use uuid::Uuid;

/// "12 steps · 3 tool calls".
pub fn summary(steps: usize, tool_calls: usize) -> String {
    format!("{} · {}", plural(steps, "step", "steps"), plural(tool_calls, "tool call", "tool calls"))
}

/// The summary of a finished task, from what the server kept of it.
pub fn summary_of(progress: &Progress) -> Option<String> {
    (progress.steps > 0).then(|| summary(progress.steps as usize, progress.tool_calls as usize))
}

/// A finished task's steps, folded, read from the server when first opened.
#[component]
pub fn LazySteps(session: Uuid, task: Uuid, summary: String) -> impl IntoView {
    let steps: RwSignal<Option<Vec<TimelineItem>>> = RwSignal::new(None);
    let asked = StoredValue::new(false);
    let open = move |_| {
        if asked.get_value() {
            return;
        }
        asked.set_value(true);
        leptos::task::spawn_local(async move { steps.set(Some(load(session, task).await)) });
    };
    view! {
        <details class="steps" on:toggle=open>
            <summary>{summary}</summary>
            {move || match steps.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(steps) => view! { <Steps steps=steps /> }.into_any(),
            }}
        </details>
    }
}

/// The task's latest steps ([`KEPT_STEPS`] at most), a page of lines at a time.
async fn load(session: Uuid, task: Uuid) -> Vec<TimelineItem> {
    let (mut steps, mut seqs) = (Vec::new(), Vec::new());
    let mut after = 0;
    // Bounded: a task stores at most 8 MiB of lines, 1 MiB a page.
    for _ in 0..16 {
        let Ok(page) = crate::api::task_events(crate::api::SessionRef::Existing(session), task, after, 0, None).await else { break };
        let (new, new_seqs) = steps_of(&page.events);
        steps.extend(new);
        seqs.extend(new_seqs);
        trim(&mut steps, &mut seqs, KEPT_STEPS);
        after = page.after;
        if !page.more {
            break;
        }
    }
    steps
}

/// A task's steps: tool calls with their (expandable) results, text, retries, subagents.
#[component]
pub fn Steps(#[prop(into)] steps: Signal<Vec<TimelineItem>>) -> impl IntoView {
    view! {
        <ol class="timeline">
            {move || {
                let steps = steps.get();
                let result_of = |id: &str| {
                    steps.iter().find_map(|s| match s {
                        TimelineItem::ToolResult { tool_use_id, text, is_error } if tool_use_id == id => Some((text.clone(), *is_error)),
                        _ => None,
                    })
                };
                steps
                    .iter()
                    .filter_map(|step| {
                        let line = match step {
                            TimelineItem::Started { model } => view! { <li class="step started">{format!("Started · {}", model_name(model))}</li> }.into_any(),
                            TimelineItem::Text { text } => view! { <li class="step text">{truncate_chars(text, 280)}</li> }.into_any(),
                            TimelineItem::Thinking => view! { <li class="step thinking">"Thinking…"</li> }.into_any(),
                            TimelineItem::Tool { id, summary, .. } => match result_of(id) {
                                Some((output, is_error)) => view! {
                                    <li class="step tool" class:error=is_error>
                                        <details>
                                            <summary>{summary.clone()}</summary>
                                            <pre class="tool-output">{truncate_chars(&output, 1200)}</pre>
                                        </details>
                                    </li>
                                }
                                .into_any(),
                                // Waiting on the user: its "Waiting for you" step says it.
                                None if asked_about(&steps, id) => return None,
                                None => view! { <li class="step tool running">{summary.clone()}</li> }.into_any(),
                            },
                            TimelineItem::ToolResult { .. } => return None,
                            TimelineItem::Retry { attempt, max_retries, error } => {
                                view! { <li class="step retry">{format!("Retrying the API ({attempt}/{max_retries}): {error}")}</li> }.into_any()
                            }
                            TimelineItem::BackgroundTask { .. } => {
                                view! { <li class="step subagent">{background_text(step, &steps)}</li> }.into_any()
                            }
                            TimelineItem::Truncated { .. } => {
                                view! { <li class="step truncated">{format!("… {}", truncated_text(step))}</li> }.into_any()
                            }
                            TimelineItem::Asked { request_id, summary, .. } => {
                                let answered = steps.iter().any(|s| matches!(s, TimelineItem::Decided { request_id: r, .. } if r == request_id));
                                let text = if answered { format!("Asked you: {summary}") } else { format!("Waiting for you: {summary}") };
                                view! { <li class="step asked" class:waiting=!answered>{text}</li> }.into_any()
                            }
                            TimelineItem::Decided { allowed, .. } => {
                                view! { <li class="step decided" class:denied=!*allowed>{decided_text(step)}</li> }.into_any()
                            }
                        };
                        Some(line)
                    })
                    .collect_view()
            }}
        </ol>
    }
}

/// Whether a permission request is about the tool call `id` (while it has no result, the request
/// and its answer are what to show of it).
fn asked_about(steps: &[TimelineItem], id: &str) -> bool {
    steps.iter().any(|s| matches!(s, TimelineItem::Asked { tool_use_id: Some(t), .. } if t == id))
}
