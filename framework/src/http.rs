//! What the REST providers (browser and native) share about HTTP: how a base URL is
//! normalised and how a failed response becomes an [`HttpError`]. No transport here.

use crate::data::{ListResult, Record};
use crate::error::HttpError;

/// The status of an [`HttpError`] that never got a response (network failure, bad body).
pub const NO_RESPONSE: u16 = 0;

/// The header carrying a list's total.
pub const TOTAL_COUNT: &str = "x-total-count";

/// A page and its `x-total-count` header as a [`ListResult`]. Like simple-rest: without a
/// (readable) header the page is all there is.
///
/// ```
/// use herald_framework::http::list_result;
/// assert_eq!(list_result(vec![], Some(" 42 ")).total, 42);
/// assert_eq!(list_result(vec![serde_json::json!({"id": 1})], None).total, 1);
/// ```
pub fn list_result(data: Vec<Record>, total: Option<&str>) -> ListResult {
    let total = total
        .and_then(|t| t.trim().parse::<u64>().ok())
        .unwrap_or(data.len() as u64);
    ListResult { data, total }
}

/// A base URL without trailing slashes (`"/api/"` → `"/api"`).
///
/// ```
/// assert_eq!(herald_framework::http::trim_base("http://h/api//"), "http://h/api");
/// ```
pub fn trim_base(base: impl Into<String>) -> String {
    let mut base = base.into();
    while base.ends_with('/') {
        base.pop();
    }
    base
}

/// The error a failed response stands for: its body when that is an `HttpError` (with the
/// real status), else one made from the body text, the reason phrase or the status.
///
/// ```
/// use herald_framework::http::error_from_body;
/// let e = error_from_body(404, r#"{"message":"post 9 not found","statusCode":500}"#, "Not Found");
/// assert_eq!((e.status_code, e.message.as_str()), (404, "post 9 not found"));
/// assert_eq!(error_from_body(502, "", "Bad Gateway").message, "Bad Gateway");
/// assert_eq!(error_from_body(502, "", "").message, "request failed with status 502");
/// ```
pub fn error_from_body(status: u16, body: &str, reason: &str) -> HttpError {
    if let Ok(error) = serde_json::from_str::<HttpError>(body) {
        return HttpError {
            status_code: status,
            ..error
        };
    }
    let text = body.trim();
    let message = match (text.is_empty(), reason.is_empty()) {
        (false, _) => text.to_owned(),
        (true, false) => reason.to_owned(),
        (true, true) => format!("request failed with status {status}"),
    };
    HttpError::new(status, message)
}
