//! The sign-in screen. The password goes to the server once; the server answers with an HttpOnly
//! cookie, and the app never stores the password.

use crate::api::{sign_in, Me};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn SignIn(#[prop(into)] on_signed_in: Callback<Me>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (user, secret) = (username.get_untracked(), password.get_untracked());
        spawn_local(async move {
            let outcome = sign_in(user, secret).await;
            busy.set(false);
            match outcome {
                Ok(me) => {
                    password.set(String::new());
                    on_signed_in.run(me);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <main class="sign-in">
            <form on:submit=submit>
                <h1>"Claude Remote"</h1>
                <p class="hint">"Sign in to your machine."</p>
                <label for="username">"User name"</label>
                <input
                    id="username"
                    name="username"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get()}</p>
                </Show>
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
