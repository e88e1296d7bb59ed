//! What a hostile (or merely broken) REST client sends — huge and repeated query keys, NUL
//! characters, malformed escapes, ids that do not fit, bodies of the wrong shape — and the
//! clear 4xx `HttpError` it gets back: never a 5xx, and nothing written. Also the input
//! limits of `docs/rest.md`: trimmed titles, the page cap, at most 8 sort keys and 64 filter
//! terms. Every case runs on SQLite and on PostgreSQL (`HERALD_TEST_DATABASE=postgres`).

use crate::seeded::POSTS_SEEDED;
use herald_protocol::query::{MAX_FILTERS, MAX_SORT_KEYS};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use server::testkit::{expect_error, json_of, TestServer};

/// Rows in `table` (a fixed table name, never client input).
async fn count(s: &TestServer, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(s.state.store.pool())
        .await
        .expect("count rows")
}

async fn get(client: &Client, s: &TestServer, path_and_query: &str) -> reqwest::Response {
    client.get(s.url(path_and_query)).send().await.expect("GET")
}

/// The message of a 400 for `query` on posts.
async fn bad_query(client: &Client, s: &TestServer, query: &str) -> String {
    let e = expect_error(get(client, s, &format!("/api/posts?{query}")).await, 400).await;
    e["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn titles_are_trimmed_before_validation_and_stored_trimmed() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let max = "t".repeat(admin::resources::TITLE_MAX);

    // 200 characters and trailing (and leading) white space: valid, stored without it.
    let res = alice
        .post(s.url("/api/posts"))
        .json(&json!({ "title": format!("  {max}   \t") }))
        .send()
        .await
        .unwrap();
    let (status, post) = json_of(res).await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["title"], max.as_str());

    // An update trims too.
    let res = alice
        .patch(s.url(&format!("/api/posts/{}", post["id"])))
        .json(&json!({ "title": format!("{max}\n ") }))
        .send()
        .await
        .unwrap();
    let (status, updated) = json_of(res).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["title"], max.as_str());
    let res = get(&alice, &s, &format!("/api/posts/{}", post["id"])).await;
    assert_eq!(
        json_of(res).await.1["title"],
        max.as_str(),
        "stored trimmed"
    );

    // 201 characters are too many, spaces or not.
    for title in [format!("{max}x"), format!(" {max}x ")] {
        let res = alice
            .post(s.url("/api/posts"))
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        let e = expect_error(res, 422).await;
        assert!(
            e["errors"]["title"][0]
                .as_str()
                .is_some_and(|m| m.contains("at most 200")),
            "{e}"
        );
    }
    assert_eq!(count(&s, "posts").await, POSTS_SEEDED as i64 + 1);
}

#[tokio::test]
async fn pages_are_capped() {
    const CAP: u64 = 5;
    const _: () = assert!(POSTS_SEEDED > CAP, "the seed has more posts than the cap");
    let s = TestServer::start_with(admin::build, |c| c.page_max = CAP).await;
    let alice = s.login("alice").await;

    // A range as wide as the cap is served, with the full total.
    let res = get(&alice, &s, "/api/posts?_start=0&_end=5").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["x-total-count"],
        POSTS_SEEDED.to_string().as_str()
    );
    assert_eq!(res.json::<Vec<Value>>().await.unwrap().len() as u64, CAP);
    let res = get(&alice, &s, "/api/posts?_start=18&_end=23").await;
    assert_eq!(res.status(), StatusCode::OK, "a short last page");

    // A wider range is a 400 naming the cap, wherever it starts.
    for query in [
        "_start=0&_end=6",
        "_start=100&_end=106",
        "_start=0&_end=18446744073709551615",
    ] {
        let message = bad_query(&alice, &s, query).await;
        assert!(message.contains("at most 5 rows"), "{query}: {message}");
    }

    // Without a range: every row while they fit in the cap, a 400 naming it beyond.
    let message = bad_query(&alice, &s, "").await;
    assert!(message.contains("at most 5 rows"), "{message}");
    let message = bad_query(&alice, &s, "id_lte=6").await;
    assert!(message.contains("at most 5 rows"), "{message}");
    let res = get(&alice, &s, "/api/posts?id_lte=5").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-total-count"], "5");
    assert_eq!(res.json::<Vec<Value>>().await.unwrap().len(), 5);
    let res = get(&alice, &s, "/api/posts?id=1&id=2&id=999").await;
    assert_eq!(res.json::<Vec<Value>>().await.unwrap().len(), 2, "getMany");
    let res = get(&alice, &s, "/api/users").await;
    assert_eq!(res.status(), StatusCode::OK, "two users fit");
    let res = get(&alice, &s, "/api/posts?id_gte=1000").await;
    assert_eq!(res.headers()["x-total-count"], "0", "nothing matches");
}

#[tokio::test]
async fn sort_keys_and_filter_terms_are_limited() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let sort = |n: usize| format!("_sort={}", vec!["id"; n].join(","));
    let filters = |n: usize| {
        (0..n)
            .map(|i| format!("id_ne={}", 1000 + i))
            .collect::<Vec<_>>()
            .join("&")
    };

    // At the limits: served.
    let res = get(&alice, &s, &format!("/api/posts?{}", sort(MAX_SORT_KEYS))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = get(&alice, &s, &format!("/api/posts?{}", filters(MAX_FILTERS))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["x-total-count"],
        POSTS_SEEDED.to_string().as_str()
    );

    // One beyond, and far beyond (SQLite refuses more than 2,000 ORDER BY terms, and
    // expression trees deeper than 1,000): a 400 naming the limit.
    for n in [MAX_SORT_KEYS + 1, 3_000] {
        let message = bad_query(&alice, &s, &sort(n)).await;
        assert!(message.contains("at most 8 sort keys"), "{n}: {message}");
        let order = vec!["desc"; n].join(",");
        let message = bad_query(&alice, &s, &format!("{}&_order={order}", sort(n))).await;
        assert!(message.contains("at most 8 sort keys"), "{n}: {message}");
    }
    for n in [MAX_FILTERS + 1, 1_000, 5_000] {
        let message = bad_query(&alice, &s, &filters(n)).await;
        assert!(
            message.contains("at most 64 filter terms"),
            "{n}: {message}"
        );
        let ids = (0..n)
            .map(|i| format!("id={i}"))
            .collect::<Vec<_>>()
            .join("&");
        let message = bad_query(&alice, &s, &ids).await;
        assert!(
            message.contains("at most 64 filter terms"),
            "{n}: {message}"
        );
    }
    let likes = vec!["title_like=a"; 1_000].join("&");
    let message = bad_query(&alice, &s, &likes).await;
    assert!(message.contains("at most 64 filter terms"), "{message}");
}

/// One hostile request and the status it must get.
struct Case {
    name: &'static str,
    method: Method,
    path: String,
    /// Raw body bytes, sent as `application/json` unless `content_type` says otherwise.
    body: Option<Vec<u8>>,
    content_type: Option<&'static str>,
    headers: Vec<(&'static str, &'static str)>,
    status: u16,
}

fn case(name: &'static str, method: Method, path: impl Into<String>, status: u16) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        body: None,
        content_type: None,
        headers: Vec::new(),
        status,
    }
}

impl Case {
    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self.content_type.get_or_insert("application/json");
        self
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    fn content_type(mut self, content_type: &'static str) -> Self {
        self.content_type = Some(content_type);
        self
    }
}

fn hostile_cases() -> Vec<Case> {
    use Method as M;
    let repeat = |part: &str, n: usize| vec![part; n].join("&");
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!(
        "{{\"title\": {}1{}}}",
        "{\"a\": ".repeat(10_000),
        "}".repeat(10_000)
    );
    vec![
        // Huge query strings, as long as the HTTP layer lets reach a handler (64 KiB; beyond,
        // see below). A long value is no mistake in itself: it simply matches nothing.
        case(
            "60 KB of one filter value",
            M::GET,
            format!("/api/posts?q=x&title_like=x&status={}", "d".repeat(60_000)),
            200,
        ),
        case(
            "60 KB of filter keys",
            M::GET,
            format!("/api/posts?{}=1", "k".repeat(60_000)),
            400,
        ),
        // Thousands of repeated keys: filters beyond the limit, and parameters that may appear
        // once (empty pairs are no parameters at all).
        case(
            "5,000 repeated ids",
            M::GET,
            format!("/api/posts?{}", repeat("id=1", 5_000)),
            400,
        ),
        case(
            "3,000 repeated filters",
            M::GET,
            format!("/api/posts?{}", repeat("status=draft", 3_000)),
            400,
        ),
        case(
            "3,000 repeated _sort",
            M::GET,
            format!("/api/posts?{}", repeat("_sort=id", 3_000)),
            400,
        ),
        case(
            "3,000 repeated q",
            M::GET,
            format!("/api/posts?{}", repeat("q=a", 3_000)),
            400,
        ),
        case(
            "repeated _start",
            M::GET,
            "/api/posts?_start=0&_start=1&_end=2",
            400,
        ),
        case(
            "10,000 empty pairs",
            M::GET,
            format!("/api/posts?{}", "&".repeat(10_000)),
            200,
        ),
        // NUL wherever text goes.
        case("NUL in an eq filter", M::GET, "/api/posts?title=a%00b", 400),
        case(
            "NUL in a ne filter",
            M::GET,
            "/api/posts?status_ne=%00",
            400,
        ),
        case(
            "NUL in a like filter",
            M::GET,
            "/api/posts?title_like=%00",
            400,
        ),
        case(
            "NUL in a gte filter",
            M::GET,
            "/api/posts?created_at_gte=%00",
            400,
        ),
        case("NUL in q", M::GET, "/api/posts?q=x%00", 400),
        case("NUL in a filter key", M::GET, "/api/posts?ti%00tle=x", 400),
        case("NUL in _sort", M::GET, "/api/posts?_sort=id%00", 400),
        case("NUL in an id filter", M::GET, "/api/posts?id=1%00", 400),
        case("NUL as the id", M::GET, "/api/posts/%00", 400),
        case("NUL in the id", M::GET, "/api/posts/1%00", 400),
        case("NUL in a resource name", M::GET, "/api/po%00sts", 404),
        case(
            "NUL in a resource name, by id",
            M::GET,
            "/api/po%00sts/1",
            404,
        ),
        case("NUL id on update", M::PATCH, "/api/posts/%00", 400).body("{}"),
        case("NUL id on delete", M::DELETE, "/api/posts/%00", 400),
        case("NUL in a body key", M::POST, "/api/posts", 422)
            .body(r#"{"title": "t", "a\u0000": 1}"#),
        case("NUL in a title", M::POST, "/api/posts", 422).body(r#"{"title": "a\u0000"}"#),
        // Malformed percent-encoding.
        case("lone % in q", M::GET, "/api/posts?q=50%", 400),
        case("bad escape in q", M::GET, "/api/posts?q=%zz", 400),
        case("bad escape in a key", M::GET, "/api/posts?title%G1=x", 400),
        case("non-UTF-8 escape in q", M::GET, "/api/posts?q=%ff%fe", 400),
        case(
            "truncated UTF-8 in a filter",
            M::GET,
            "/api/posts?title=%C3",
            400,
        ),
        case("non-UTF-8 escape in an id", M::GET, "/api/posts/%ff", 400),
        case("non-UTF-8 escape in a resource", M::GET, "/api/%ff", 400),
        case("non-UTF-8 id on update", M::PATCH, "/api/posts/%C3%28", 400).body("{}"),
        case("non-UTF-8 id on delete", M::DELETE, "/api/posts/%ff", 400),
        case("bad escape in an id", M::GET, "/api/posts/%zz", 400),
        // Ids and numbers that do not fit in 64 bits.
        case("id past i64", M::GET, "/api/posts/9223372036854775808", 400),
        case(
            "id past u64",
            M::GET,
            "/api/posts/99999999999999999999999",
            400,
        ),
        case(
            "smallest i64 id",
            M::GET,
            "/api/posts/-9223372036854775808",
            404,
        ),
        case("negative id", M::GET, "/api/posts/-1", 404),
        case(
            "id filter past i64",
            M::GET,
            "/api/posts?id=9223372036854775808",
            400,
        ),
        case(
            "gte filter past i64",
            M::GET,
            "/api/posts?version_gte=-99999999999999999999",
            400,
        ),
        case(
            "update of an id past i64",
            M::PATCH,
            "/api/posts/9223372036854775808",
            400,
        )
        .body(r#"{"title": "x"}"#),
        case(
            "delete of an id past i64",
            M::DELETE,
            "/api/posts/18446744073709551616",
            400,
        ),
        case("post_id past i64", M::POST, "/api/comments", 422)
            .body(r#"{"post_id": 99999999999999999999, "body": "x"}"#),
        case("post_id as a float", M::POST, "/api/comments", 422)
            .body(r#"{"post_id": 1e300, "body": "x"}"#),
        case("version past i64", M::PATCH, "/api/posts/1", 400)
            .body(r#"{"title": "x", "version": 99999999999999999999}"#),
        case("If-Match past i64", M::PATCH, "/api/posts/1", 400)
            .header("if-match", "\"99999999999999999999\"")
            .body(r#"{"title": "x"}"#),
        case("If-Match of text", M::DELETE, "/api/posts/1", 400).header("if-match", "W/\"abc\""),
        // Negative and enormous ranges. A small page however far past the end is just empty.
        case(
            "negative _start",
            M::GET,
            "/api/posts?_start=-1&_end=5",
            400,
        ),
        case("negative _end", M::GET, "/api/posts?_start=0&_end=-5", 400),
        case(
            "_end past u64",
            M::GET,
            "/api/posts?_start=0&_end=99999999999999999999",
            400,
        ),
        case(
            "enormous _end",
            M::GET,
            "/api/posts?_start=0&_end=18446744073709551615",
            400,
        ),
        case(
            "enormous _start, small page",
            M::GET,
            "/api/posts?_start=18446744073709551610&_end=18446744073709551615",
            200,
        ),
        case(
            "_start at i64::MAX",
            M::GET,
            "/api/posts?_start=9223372036854775807&_end=9223372036854775807",
            200,
        ),
        case(
            "_end before _start",
            M::GET,
            "/api/posts?_start=10&_end=2",
            400,
        ),
        // Bodies that are not UTF-8, too deep, or not an object.
        case("non-UTF-8 body", M::POST, "/api/posts", 400)
            .body(b"{\"title\": \"\xff\xfe\"}".to_vec()),
        case("non-UTF-8 update", M::PATCH, "/api/posts/1", 400)
            .body(b"{\"title\": \"\xc3\x28\"}".to_vec()),
        case("array nested 10,000 deep", M::POST, "/api/posts", 400).body(deep_array.clone()),
        case("object nested 10,000 deep", M::POST, "/api/posts", 400).body(deep_object.clone()),
        case("deep update", M::PATCH, "/api/posts/1", 400).body(deep_object),
        case("array body", M::POST, "/api/posts", 400).body(r#"[{"title": "x"}]"#),
        case("string body", M::POST, "/api/posts", 400).body(r#""title""#),
        case("number body", M::POST, "/api/posts", 400).body("42"),
        case("null body", M::POST, "/api/posts", 400).body("null"),
        case("array update", M::PATCH, "/api/posts/1", 400).body("[]"),
        case("number update", M::PUT, "/api/posts/1", 400).body("1e400"),
        case("empty body", M::POST, "/api/posts", 400).body(""),
        case("trailing garbage", M::POST, "/api/posts", 400).body(r#"{"title": "x"} x"#),
        case("title of the wrong type", M::POST, "/api/posts", 422).body(r#"{"title": ["x"]}"#),
        case("title nested", M::POST, "/api/posts", 422).body(r#"{"title": {"a": 1}}"#),
        case("not JSON at all", M::POST, "/api/posts", 415)
            .body("title=x")
            .content_type("application/x-www-form-urlencoded"),
        // Unknown resources and paths.
        case("unknown resource", M::GET, "/api/nothing", 404),
        case("unknown resource by id", M::GET, "/api/nothing/1", 404),
        case(
            "create on an unknown resource",
            M::POST,
            "/api/nothing",
            404,
        )
        .body(r#"{"title": "x"}"#),
        case(
            "update on an unknown resource",
            M::PATCH,
            "/api/nothing/1",
            404,
        )
        .body(r#"{"title": "x"}"#),
        case(
            "delete on an unknown resource",
            M::DELETE,
            "/api/nothing/1",
            404,
        ),
        case(
            "a long resource name",
            M::GET,
            format!("/api/{}", "r".repeat(20_000)),
            404,
        ),
        case("too deep a path", M::GET, "/api/posts/1/comments/2", 404),
    ]
}

#[tokio::test]
async fn hostile_input_gets_a_clear_4xx_and_changes_nothing() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let (posts, comments, events) = (
        count(&s, "posts").await,
        count(&s, "comments").await,
        count(&s, "events").await,
    );
    let mut failures = Vec::new();
    for c in hostile_cases() {
        let mut req = alice.request(c.method.clone(), s.url(&c.path));
        for (name, value) in &c.headers {
            req = req.header(*name, *value);
        }
        if let Some(ct) = c.content_type {
            req = req.header("content-type", ct);
        }
        if let Some(body) = c.body.clone() {
            req = req.body(body);
        }
        let res = match req.send().await {
            Ok(res) => res,
            Err(e) => {
                let shown: String = e.to_string().chars().take(200).collect();
                failures.push(format!("{}: no answer: {shown}", c.name));
                continue;
            }
        };
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status != c.status {
            let shown: String = body.to_string().chars().take(200).collect();
            failures.push(format!(
                "{}: {status} (wanted {}) {shown}",
                c.name, c.status
            ));
            continue;
        }
        if status >= 400 {
            let shaped = content_type.starts_with("application/json")
                && body["statusCode"] == status
                && body["message"].as_str().is_some_and(|m| !m.is_empty());
            if !shaped {
                failures.push(format!(
                    "{}: not an HttpError: {content_type} {body}",
                    c.name
                ));
            }
        }
    }
    // 200 KB: longer than the longest URI the HTTP layer parses (64 KiB), so hyper answers
    // 414 before any handler runs, with no body to shape. A 4xx, and the server carries on.
    let cookie = s.session_cookie("alice").await;
    for (name, target) in [
        ("200 KB q", format!("/api/posts?q={}", "x".repeat(200_000))),
        (
            "40,000 repeated ids",
            format!("/api/posts?{}", vec!["id=1"; 40_000].join("&")),
        ),
    ] {
        let (status, answer) = raw_get(&s, &target, &cookie).await;
        if !(400..500).contains(&status) {
            let head: String = answer.chars().take(200).collect();
            failures.push(format!("{name}: {head}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(count(&s, "posts").await, posts, "no post was written");
    assert_eq!(
        count(&s, "comments").await,
        comments,
        "no comment was written"
    );
    assert_eq!(count(&s, "events").await, events, "nothing was logged");
    // The server still answers normally.
    let res = get(&alice, &s, "/api/posts?_start=0&_end=1").await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// Sends `GET {target}` as raw HTTP/1.1 with `cookie` (clients refuse URIs this long) and
/// returns the status line and what follows it.
async fn raw_get(s: &TestServer, target: &str, cookie: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET {target} HTTP/1.1\r\nhost: {addr}\r\ncookie: {cookie}\r\nconnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    // The server may answer and close before reading the whole request: keep what came.
    let _ = tcp.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}
