//! The error shape shared by the REST API and every data provider: Refine's `HttpError`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field name → messages, as in `{"errors": {"title": ["must not be empty"]}}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The JSON body of every failed API call, and the error every data provider returns.
///
/// ```
/// use herald_protocol::error::HttpError;
/// let e = HttpError::new(404, "post 7 not found");
/// assert_eq!(serde_json::to_value(&e).unwrap()["statusCode"], 404);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{status_code}: {message}")]
pub struct HttpError {
    pub message: String,
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    /// Validation errors by field (422 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
    /// The record as it is now (409 version conflicts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
}

impl HttpError {
    /// An error with a status and a message and nothing else.
    ///
    /// ```
    /// # use herald_protocol::error::HttpError;
    /// assert_eq!(HttpError::new(401, "not logged in").status_code, 401);
    /// ```
    pub fn new(status_code: u16, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status_code,
            errors: None,
            current: None,
        }
    }
}
