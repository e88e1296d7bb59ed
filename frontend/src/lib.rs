//! Hydrate entry: the wasm module the browser loads to take over the server-rendered page.

// Hydrating the whole app monomorphises its view types here; without erased components
// (`disable-erase-components`) their nesting exceeds rustc's default query depth.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
