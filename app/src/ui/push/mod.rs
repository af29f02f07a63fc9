//! Notifications on this device. Turning them on asks the browser's permission (only on that
//! tap) and, where the browser has a push service, subscribes it to the server's Web Push: a
//! task's end or a question then reaches the phone with the app closed, and an approval can be
//! answered from the notification (the service worker, `public/sw.js`). Elsewhere the app still
//! notifies while it is open in the background. The panel also sends a test and lists the
//! subscribed devices, each removable. While a session is on screen the app says so to the
//! server (`presence`), which then sends no push for it.

pub mod device;
mod presence;

pub use presence::report_presence;

use super::browser;
use super::format::relative_time;
use device::{Device, Unsupported};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Notifications(now: RwSignal<i64>) -> impl IntoView {
    let on = RwSignal::new(browser::notifications_enabled());
    let refused = RwSignal::new(browser::notifications_refused());
    let here = RwSignal::new(device::endpoint_here());
    let status = RwSignal::new(None::<String>);
    let devices = RwSignal::new(None::<Vec<Device>>);
    let busy = RwSignal::new(false);
    let load_devices = move || {
        spawn_local(async move {
            match device::devices().await {
                Ok(list) => {
                    // Removed from another device, or by the push service: no longer subscribed here.
                    if let Some(mine) = here.get_untracked()
                        && !list.iter().any(|d| d.endpoint == mine) {
                        device::unsubscribe_here().await;
                        here.set(None);
                    }
                    devices.set(Some(list));
                }
                Err(error) => status.set(Some(error)),
            }
        })
    };
    let toggle = move |_| {
        let wanted = !on.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let granted = browser::set_notifications(wanted).await;
            on.set(granted);
            refused.set(browser::notifications_refused());
            status.set(None);
            if granted && device::support().is_ok() {
                status.set(Some("Connecting this device…".into()));
                match device::subscribe().await {
                    Ok(endpoint) => {
                        here.set(Some(endpoint));
                        status.set(Some("On for this device, also while the app is closed.".into()));
                    }
                    Err(error) => status.set(Some(format!("Only while the app is open: {error}."))),
                }
                load_devices();
            } else if !wanted {
                if let Some(id) = this_device(devices, here) {
                    let _ = device::remove(&id).await;
                }
                device::unsubscribe_here().await;
                here.set(None);
                load_devices();
            }
            busy.set(false);
        });
    };
    let test = move |_| {
        let Some(id) = this_device(devices, here) else { return };
        status.set(Some("Sending a test…".into()));
        spawn_local(async move {
            status.set(Some(match device::test(&id).await {
                Ok(()) => "Test sent: it should show in a few seconds.".into(),
                Err(error) => error,
            }));
            load_devices();
        });
    };
    let remove = move |device: Device| {
        spawn_local(async move {
            match device::remove(&device.id).await {
                Ok(()) if here.get_untracked().as_deref() == Some(device.endpoint.as_str()) => {
                    device::unsubscribe_here().await;
                    here.set(None);
                }
                Ok(()) => {}
                Err(error) => status.set(Some(error)),
            }
            load_devices();
        });
    };
    load_devices();
    let hint = match device::support() {
        Ok(()) => None,
        Err(Unsupported::NotInstalled) => Some(
            "On iPhone and iPad, notifications reach a closed app only once it is on the Home Screen: tap Share, then Add to Home Screen, open it from there and turn this on.",
        ),
        Err(Unsupported::NoPush) => Some("This browser can notify only while the app is open."),
    };

    view! {
        <section class="notifications" aria-label="Notifications">
            <label class="notify">
                <input type="checkbox" prop:checked=move || on.get() prop:disabled=move || busy.get() on:change=toggle />
                "Notify me when a task ends or waits for me"
            </label>
            <Show when=move || refused.get()>
                <p class="notify-refused" role="status">
                    "This browser blocks notifications from this site. Allow them in the site's settings (the icon beside the address, or the system's notification settings for an installed app), then turn this on again."
                </p>
            </Show>
            {hint.map(|hint| view! { <p class="notify-note">{hint}</p> })}
            <p class="notify-note" role="status">{move || status.get()}</p>
            <Show when=move || this_device(devices, here).is_some()>
                <button type="button" class="notify-test" on:click=test>"Send a test"</button>
            </Show>
            {move || {
                let list = devices.get().filter(|list| !list.is_empty())?;
                let mine = here.get();
                Some(view! {
                    <h3 class="devices-heading">"Devices that get notifications"</h3>
                    <ul class="devices">
                        {list.into_iter().map(|d| {
                            let name = d.name.clone().unwrap_or_else(|| "A browser".into());
                            let this = mine.as_deref() == Some(d.endpoint.as_str());
                            let last = d.last_success_at;
                            let label = format!("Remove {name}");
                            view! {
                                <li>
                                    <span class="device-name">{name}{this.then_some(" (this device)")}</span>
                                    <span class="device-time">{move || match last {
                                        Some(at) => format!("last reached {}", relative_time(at, now.get(), browser::utc_offset_minutes())),
                                        None => "not reached yet".to_owned(),
                                    }}</span>
                                    <button type="button" aria-label=label on:click=move |_| remove(d.clone())>"Remove"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })
            }}
        </section>
    }
}

/// This device's subscription id on the server, once the list is loaded.
fn this_device(devices: RwSignal<Option<Vec<Device>>>, here: RwSignal<Option<String>>) -> Option<String> {
    let mine = here.get()?;
    devices.with(|list| list.as_ref()?.iter().find(|d| d.endpoint == mine).map(|d| d.id.clone()))
}
