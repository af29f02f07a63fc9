//! A card for each request the followed task waits on: what the tool would do, and the user's
//! decision (allow, deny with a reason, allow for the session; answers to questions; a plan to
//! approve or keep working on). The cards come from the task's polls, so every device shows
//! them, and a decision made anywhere removes them everywhere.

use super::markdown;
use super::request::{self, Change, DiffLine, EditDiff, Question, Shown};
use super::state::ChatState;
use crate::api::{ApprovalDecision, Decision, PendingApproval, Remember};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Approvals(state: ChatState) -> impl IntoView {
    view! {
        <For
            each=move || state.approvals.get()
            key=|approval| approval.id.clone()
            children=move |approval| view! { <Card state=state approval=approval /> }
        />
    }
}

fn plain(decision: Decision) -> ApprovalDecision {
    ApprovalDecision { decision, message: None, updated_input: None, remember: None }
}

#[component]
fn Card(state: ChatState, approval: PendingApproval) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = approval.id.clone();
    let decide = Callback::new(move |answer: ApprovalDecision| {
        let id = id.clone();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            if let Err(text) = state.decide(id, answer).await {
                error.set(Some(text));
                busy.set(false);
            }
        });
    });
    let dom_id = format!("approval-{}", approval.id);
    let heading = format!("{dom_id}-title");
    let shown = request::shown(&approval.tool_name, &approval.input);
    let description = match &shown {
        Shown::Command { .. } | Shown::Other { .. } => approval.description.clone().filter(|d| !d.trim().is_empty()),
        _ => None,
    };
    let offers_session = !approval.suggestions.is_empty();
    let tool = approval.tool_name.clone();
    let (body, actions) = match shown {
        Shown::Command { command } => (view! { <pre class="approval-code"><code>{command}</code></pre> }.into_any(), None),
        Shown::File { path, content } => (
            view! {
                <p class="approval-path"><code>{path}</code></p>
                <pre class="approval-code" aria-label="Content"><code>{content}</code></pre>
            }
            .into_any(),
            None,
        ),
        Shown::Edits { path, edits } => (
            view! {
                <p class="approval-path"><code>{path}</code></p>
                {edits.into_iter().map(edit_view).collect_view()}
            }
            .into_any(),
            None,
        ),
        Shown::Other { summary, input } => (
            view! {
                <p class="approval-path">{summary}</p>
                <pre class="approval-code"><code>{input}</code></pre>
            }
            .into_any(),
            None,
        ),
        Shown::Plan { markdown } => {
            let html = markdown::to_html(&markdown);
            (
                view! { <div class="markdown plan" inner_html=html></div> }.into_any(),
                Some(plan_actions(decide, busy, &dom_id)),
            )
        }
        Shown::Questions(questions) => (
            questions_form(questions, approval.input.clone(), decide, busy, &dom_id),
            Some(deny_row(decide, busy, &dom_id, ("Don't answer", "Why not? (optional)"), false, None)),
        ),
    };
    let actions = actions.unwrap_or_else(|| {
        let deny = deny_row(decide, busy, &dom_id, ("Deny", "Reason for denying (optional)"), false, None);
        view! {
            <div class="approval-actions">
                <button type="button" class="primary" disabled=move || busy.get() on:click=move |_| decide.run(plain(Decision::Allow))>
                    "Allow"
                </button>
                {offers_session.then(|| {
                    view! {
                        <button
                            type="button"
                            class="secondary"
                            disabled=move || busy.get()
                            on:click=move |_| decide.run(ApprovalDecision { remember: Some(Remember::Session), ..plain(Decision::Allow) })
                        >
                            "Allow for this session"
                        </button>
                    }
                })}
            </div>
            {deny}
        }
        .into_any()
    });
    let title = request::card_title(&tool);
    let labelled_by = heading.clone();
    let node = NodeRef::<leptos::html::Section>::new();
    // A new request is what the user has to act on: bring it into view (the least scroll that
    // shows it).
    #[cfg(feature = "csr")]
    Effect::new(move |_| {
        if let Some(section) = node.get() {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            section.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
    view! {
        <section node_ref=node class="approval" id=dom_id aria-labelledby=labelled_by data-tool=tool>
            <p class="approval-kicker">"Waiting for you"</p>
            <h2 id=heading>{title}</h2>
            {description.map(|d| view! { <p class="approval-desc">{d}</p> })}
            {body}
            {actions}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

fn edit_view(edit: EditDiff) -> AnyView {
    let line = |l: DiffLine| {
        let (class, mark) = match l.change {
            Change::Same => ("line", ' '),
            Change::Removed => ("line del", '-'),
            Change::Added => ("line ins", '+'),
        };
        view! { <span class=class>{format!("{mark} {}", l.text)}</span> }
    };
    view! {
        {edit.replace_all.then(|| view! { <p class="approval-desc">"Every occurrence"</p> })}
        <pre class="approval-code diff" aria-label="Changes"><code>{edit.lines.into_iter().map(line).collect_view()}</code></pre>
    }
    .into_any()
}

/// A deny with an optional reason the model reads (a plan's feedback, why a question is not
/// answered).
fn deny_row(
    decide: Callback<ApprovalDecision>,
    busy: RwSignal<bool>,
    dom_id: &str,
    (button, field): (&'static str, &'static str),
    multiline: bool,
    default_message: Option<&'static str>,
) -> AnyView {
    let reason = RwSignal::new(String::new());
    let field_id = format!("{dom_id}-reason");
    let deny = move |_| {
        let text = reason.get_untracked().trim().to_owned();
        let message = if text.is_empty() { default_message.map(str::to_owned) } else { Some(text) };
        decide.run(ApprovalDecision { message, ..plain(Decision::Deny) });
    };
    let input = if multiline {
        view! {
            <textarea id=field_id.clone() rows="2" placeholder=field prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=field_id.clone()
                type="text"
                autocomplete="off"
                placeholder=field
                prop:value=move || reason.get()
                on:input=move |ev| reason.set(event_target_value(&ev))
            />
        }
        .into_any()
    };
    view! {
        <div class="deny-row">
            <label class="visually-hidden" for=field_id>{field}</label>
            {input}
            <button type="button" class="deny" disabled=move || busy.get() on:click=deny>{button}</button>
        </div>
    }
    .into_any()
}

fn plan_actions(decide: Callback<ApprovalDecision>, busy: RwSignal<bool>, dom_id: &str) -> AnyView {
    let keep = deny_row(
        decide,
        busy,
        dom_id,
        ("Keep planning", "What should change? (optional)"),
        true,
        Some("Keep planning: the user has not approved this plan yet."),
    );
    view! {
        <div class="approval-actions">
            <button type="button" class="primary" disabled=move || busy.get() on:click=move |_| decide.run(plain(Decision::Allow))>
                "Approve plan"
            </button>
        </div>
        {keep}
    }
    .into_any()
}

/// `AskUserQuestion`: each question with its options (radio buttons, or checkboxes for a
/// multi-select); the answers go back as the tool's input plus `answers`.
fn questions_form(
    questions: Vec<Question>,
    input: serde_json::Value,
    decide: Callback<ApprovalDecision>,
    busy: RwSignal<bool>,
    dom_id: &str,
) -> AnyView {
    let selected: Vec<RwSignal<Vec<bool>>> = questions.iter().map(|q| RwSignal::new(vec![false; q.options.len()])).collect();
    let fieldsets = questions
        .iter()
        .zip(selected.iter().copied())
        .enumerate()
        .map(|(qi, (question, chosen))| {
            let name = format!("{dom_id}-q{qi}");
            let (kind, multi) = if question.multi_select { ("checkbox", true) } else { ("radio", false) };
            let options = question
                .options
                .iter()
                .enumerate()
                .map(|(oi, option)| {
                    let description = (!option.description.is_empty()).then(|| view! { <span class="option-desc">{option.description.clone()}</span> });
                    view! {
                        <label class="option">
                            <input
                                type=kind
                                name=name.clone()
                                value=option.label.clone()
                                prop:checked=move || chosen.with(|c| c[oi])
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        if !multi {
                                            c.iter_mut().for_each(|b| *b = false);
                                        }
                                        c[oi] = on;
                                    });
                                }
                            />
                            <span class="option-text">
                                <span class="option-label">{option.label.clone()}</span>
                                {description}
                            </span>
                        </label>
                    }
                })
                .collect_view();
            let header = (!question.header.is_empty()).then(|| view! { <span class="chip">{question.header.clone()}</span> });
            view! {
                <fieldset class="question">
                    <legend>{header}<span class="question-text">{question.question.clone()}</span></legend>
                    {multi.then(|| view! { <p class="approval-desc">"Choose any."</p> })}
                    {options}
                </fieldset>
            }
        })
        .collect_view();
    let selected = StoredValue::new(selected);
    let questions = StoredValue::new(questions);
    let answered = move || selected.with_value(|all| all.iter().all(|chosen| chosen.with(|c| c.iter().any(|on| *on))));
    let answer = move |_| {
        let answers: Vec<(String, Vec<String>)> = questions.with_value(|questions| {
            selected.with_value(|all| {
                questions.iter().zip(all).map(|(q, chosen)| (q.question.clone(), request::chosen_labels(q, &chosen.get_untracked()))).collect()
            })
        });
        decide.run(ApprovalDecision { updated_input: Some(request::answers_input(&input, &answers)), ..plain(Decision::Allow) });
    };
    view! {
        {fieldsets}
        <div class="approval-actions">
            <button type="button" class="primary" disabled=move || busy.get() || !answered() on:click=answer>
                "Answer"
            </button>
        </div>
    }
    .into_any()
}
