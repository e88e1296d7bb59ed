//! The HTML document around the app: head (hydration scripts, meta tags) and body.

use super::App;
use leptos::prelude::*;
use leptos_meta::MetaTags;

/// The whole HTML page the server renders for every route; the browser then hydrates
/// [`App`] inside its body.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // No favicon yet: say so, rather than have the browser ask for one.
                <link rel="icon" href="data:,"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}
