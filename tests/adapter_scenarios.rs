//! One list of scenarios, run against both adapters: the same app (set, read, pop, clear, a
//! failing handler, a route without the session, handlers that choose `Vary` and
//! `Cache-Control`) on axum and on actix-web must answer every request alike. What only one
//! framework has (a missing layer's message, guards and middleware) stays in its own file.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
struct App {
    user: Option<String>,
}

// The handlers both apps share: `sessionkit::Session` is one extractor for both frameworks.
async fn set(mut session: sessionkit::Session<App>) -> &'static str {
    session.set_user("alice");
    "set"
}

async fn read(session: sessionkit::Session<App>) -> String {
    session.user().unwrap_or("Not logged in").to_owned()
}

async fn pop(mut session: sessionkit::Session<App>) -> String {
    session.pop_user().unwrap_or_default()
}

async fn clear(mut session: sessionkit::Session<App>) -> &'static str {
    session.clear();
    "cleared"
}

async fn plain() -> &'static str {
    "no session here"
}

/// What a response carried.
struct Reply {
    status: u16,
    set_cookie: Vec<String>,
    vary: Vec<String>,
    cache_control: Vec<String>,
    body: String,
}

/// Sends `GET path` with a `Cookie` header of any bytes (as a browser may send).
type Send = Rc<dyn Fn(String, Option<Vec<u8>>) -> Pin<Box<dyn Future<Output = Reply>>>>;

/// One framework's app.
struct Harness {
    send: Send,
}

impl Harness {
    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        (self.send)(path.to_owned(), cookie.map(|c| c.as_bytes().to_vec())).await
    }

    async fn get_bytes(&self, path: &str, cookie: &[u8]) -> Reply {
        (self.send)(path.to_owned(), Some(cookie.to_vec())).await
    }

    /// Logs alice in; the `name=value` pair a browser sends back.
    async fn logged_in(&self) -> String {
        let reply = self.get("/set", None).await;
        assert_eq!(reply.set_cookie.len(), 1);
        common::pair(&reply.set_cookie[0])
    }
}

const REMOVAL: &str = "session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0";

mod on_axum {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use sessionkit::axum::{Session, SessionLayer};
    use tower::ServiceExt as _;

    use super::{clear, common, plain, pop, read, set, App, Harness, Reply};

    async fn fail(mut session: Session<App>) -> StatusCode {
        session.set_user("mallory");
        StatusCode::INTERNAL_SERVER_ERROR
    }
    async fn set_varying(
        mut session: Session<App>,
    ) -> ([(header::HeaderName, &'static str); 1], &'static str) {
        session.set_user("alice");
        ([(header::VARY, "Accept-Encoding, cookie")], "set")
    }
    async fn set_no_store(
        mut session: Session<App>,
    ) -> ([(header::HeaderName, &'static str); 1], &'static str) {
        session.set_user("alice");
        ([(header::CACHE_CONTROL, "no-store")], "set")
    }

    pub(super) fn harness() -> Harness {
        let app = Router::new()
            .route("/set", get(set))
            .route("/read", get(read))
            .route("/pop", get(pop))
            .route("/clear", get(clear))
            .route("/fail", get(fail))
            .route("/plain", get(plain))
            .route("/set-varying", get(set_varying))
            .route("/set-no-store", get(set_no_store))
            .layer(SessionLayer::new(common::builder::<App>().build().unwrap()));
        Harness {
            send: std::rc::Rc::new(move |path, cookie| {
                let app = app.clone();
                Box::pin(async move {
                    let mut request = Request::get(path);
                    if let Some(cookie) = cookie {
                        let value = header::HeaderValue::from_bytes(&cookie).unwrap();
                        request = request.header(header::COOKIE, value);
                    }
                    let response = app
                        .oneshot(request.body(Body::empty()).unwrap())
                        .await
                        .unwrap();
                    let all = |name| {
                        response
                            .headers()
                            .get_all(name)
                            .iter()
                            .map(|v| v.to_str().unwrap().to_owned())
                            .collect::<Vec<_>>()
                    };
                    let (set_cookie, vary) = (all(header::SET_COOKIE), all(header::VARY));
                    let cache_control = all(header::CACHE_CONTROL);
                    let status = response.status().as_u16();
                    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                        .await
                        .unwrap();
                    Reply {
                        status,
                        set_cookie,
                        vary,
                        cache_control,
                        body: String::from_utf8(body.to_vec()).unwrap(),
                    }
                })
            }),
        }
    }
}

mod on_actix {
    use std::rc::Rc;

    use actix_web::http::header;
    use actix_web::{test, web, HttpResponse};
    use sessionkit::actix::{Session, SessionMiddleware};

    use super::{clear, common, plain, pop, read, set, App, Harness, Reply};

    async fn fail(mut session: Session<App>) -> HttpResponse {
        session.set_user("mallory");
        HttpResponse::InternalServerError().finish()
    }
    async fn set_varying(mut session: Session<App>) -> HttpResponse {
        session.set_user("alice");
        HttpResponse::Ok()
            .insert_header((header::VARY, "Accept-Encoding, cookie"))
            .body("set")
    }
    async fn set_no_store(mut session: Session<App>) -> HttpResponse {
        session.set_user("alice");
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body("set")
    }

    pub(super) async fn harness() -> Harness {
        let middleware = SessionMiddleware::new(common::builder::<App>().build().unwrap());
        let app = Rc::new(
            test::init_service(
                actix_web::App::new()
                    .wrap(middleware)
                    .route("/set", web::get().to(set))
                    .route("/read", web::get().to(read))
                    .route("/pop", web::get().to(pop))
                    .route("/clear", web::get().to(clear))
                    .route("/fail", web::get().to(fail))
                    .route("/plain", web::get().to(plain))
                    .route("/set-varying", web::get().to(set_varying))
                    .route("/set-no-store", web::get().to(set_no_store)),
            )
            .await,
        );
        Harness {
            send: Rc::new(move |path, cookie| {
                let app = app.clone();
                Box::pin(async move {
                    let mut request = test::TestRequest::get().uri(&path);
                    if let Some(cookie) = cookie {
                        let value = header::HeaderValue::from_bytes(&cookie).unwrap();
                        request = request.insert_header((header::COOKIE, value));
                    }
                    let response = test::call_service(&*app, request.to_request()).await;
                    let all = |name| {
                        response
                            .headers()
                            .get_all(name)
                            .map(|v| v.to_str().unwrap().to_owned())
                            .collect::<Vec<_>>()
                    };
                    let (set_cookie, vary) = (all(header::SET_COOKIE), all(header::VARY));
                    let cache_control = all(header::CACHE_CONTROL);
                    let status = response.status().as_u16();
                    let body = test::read_body(response).await;
                    Reply {
                        status,
                        set_cookie,
                        vary,
                        cache_control,
                        body: String::from_utf8(body.to_vec()).unwrap(),
                    }
                })
            }),
        }
    }
}

/// Every scenario, as a test on the harness `$make` builds.
macro_rules! scenarios {
    ($make:expr) => {
        scenarios!($make;
            set_sends_one_cookie_and_read_gets_it_back,
            an_unchanged_request_sends_no_cookie_but_varies,
            a_route_without_the_extractor_neither_varies_nor_sets,
            pop_sends_a_removal_for_the_last_key,
            pop_of_an_absent_key_sends_nothing,
            clear_sends_the_removal_cookie,
            a_tampered_cookie_is_a_fresh_session_and_removed,
            a_server_error_saves_nothing,
            a_session_cookie_that_is_not_utf8_is_refused_and_removed,
            a_non_ascii_byte_in_another_cookie_keeps_the_user_logged_in,
            the_session_cookie_itself_holding_non_ascii_bytes_is_a_fresh_session,
            vary_from_the_handler_is_kept_and_not_doubled,
            a_response_that_sets_the_cookie_is_private_unless_the_handler_chose,
            a_refused_cookie_is_removed_even_by_a_route_without_the_session);
    };
    ($make:expr; $($case:ident),*) => {
        $(
            #[actix_web::test]
            async fn $case() {
                super::$case(&$make).await;
            }
        )*
    };
}

mod axum_app {
    scenarios!(super::on_axum::harness());
}

mod actix_app {
    scenarios!(super::on_actix::harness().await);
}

async fn set_sends_one_cookie_and_read_gets_it_back(app: &Harness) {
    let cookie = app.logged_in().await;
    let reply = app.get("/read", Some(&cookie)).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "alice"));
}

async fn an_unchanged_request_sends_no_cookie_but_varies(app: &Harness) {
    let cookie = app.logged_in().await;
    let reply = app
        .get("/read", Some(&format!("theme=dark; {cookie}")))
        .await;
    assert_eq!(reply.body, "alice");
    assert!(reply.set_cookie.is_empty());
    assert_eq!(reply.vary, ["Cookie"]);
}

async fn a_route_without_the_extractor_neither_varies_nor_sets(app: &Harness) {
    let cookie = app.logged_in().await;
    let reply = app.get("/plain", Some(&cookie)).await;
    assert_eq!(reply.body, "no session here");
    assert!(reply.set_cookie.is_empty());
    assert!(reply.vary.is_empty());
}

async fn pop_sends_a_removal_for_the_last_key(app: &Harness) {
    let cookie = app.logged_in().await;
    let reply = app.get("/pop", Some(&cookie)).await;
    assert_eq!(reply.body, "alice");
    assert_eq!(reply.set_cookie, [REMOVAL]);
}

async fn pop_of_an_absent_key_sends_nothing(app: &Harness) {
    let reply = app.get("/pop", None).await;
    assert_eq!(reply.body, "");
    assert!(reply.set_cookie.is_empty());
}

async fn clear_sends_the_removal_cookie(app: &Harness) {
    let cookie = app.logged_in().await;
    let reply = app.get("/clear", Some(&cookie)).await;
    assert_eq!(reply.body, "cleared");
    assert_eq!(reply.set_cookie, [REMOVAL]);
}

async fn a_tampered_cookie_is_a_fresh_session_and_removed(app: &Harness) {
    let cookie = app.logged_in().await;
    // Position 60 is inside the payload; 'A' <-> 'B' keeps it valid base64url.
    let mut bytes = cookie.clone().into_bytes();
    bytes[60] = if bytes[60] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_ne!(tampered, cookie);
    let reply = app.get("/read", Some(&tampered)).await;
    assert_eq!(reply.body, "Not logged in");
    assert_eq!(reply.set_cookie, [REMOVAL]);
}

async fn a_server_error_saves_nothing(app: &Harness) {
    let reply = app.get("/fail", None).await;
    assert_eq!(reply.status, 500);
    assert!(reply.set_cookie.is_empty());
}

async fn a_session_cookie_that_is_not_utf8_is_refused_and_removed(app: &Harness) {
    let reply = app.get_bytes("/read", b"session=\xff\xfe\x80").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "Not logged in"));
    assert_eq!(reply.set_cookie, [REMOVAL]);
}

async fn a_non_ascii_byte_in_another_cookie_keeps_the_user_logged_in(app: &Harness) {
    let cookie = app.logged_in().await;
    for other in [
        "display_name=Zo\u{eb}".as_bytes(),
        b"legacy=caf\xe9",
        b"emoji=\xf0\x9f\x8d\xaa; city=K\xc3\xb8benhavn",
    ] {
        let mut header = other.to_vec();
        header.extend_from_slice(b"; ");
        header.extend_from_slice(cookie.as_bytes());
        let reply = app.get_bytes("/read", &header).await;
        assert_eq!(reply.body, "alice", "{}", String::from_utf8_lossy(other));
        assert!(reply.set_cookie.is_empty());
    }
}

async fn the_session_cookie_itself_holding_non_ascii_bytes_is_a_fresh_session(app: &Harness) {
    let cookie = app.logged_in().await;
    let mut header = cookie.into_bytes();
    header.push(0xe9);
    let reply = app.get_bytes("/read", &header).await;
    assert_eq!(reply.body, "Not logged in");
    assert_eq!(reply.set_cookie, [REMOVAL]);
}

async fn vary_from_the_handler_is_kept_and_not_doubled(app: &Harness) {
    let reply = app.get("/set-varying", None).await;
    assert_eq!(reply.vary, ["Accept-Encoding, cookie"]);
    assert_eq!(reply.set_cookie.len(), 1);
}

async fn a_response_that_sets_the_cookie_is_private_unless_the_handler_chose(app: &Harness) {
    let set = app.get("/set", None).await;
    assert_eq!(set.cache_control, ["private"]);
    let chosen = app.get("/set-no-store", None).await;
    assert_eq!(chosen.cache_control, ["no-store"]);
    let cookie = common::pair(&set.set_cookie[0]);
    let unchanged = app.get("/read", Some(&cookie)).await;
    assert!(unchanged.cache_control.is_empty());
}

async fn a_refused_cookie_is_removed_even_by_a_route_without_the_session(app: &Harness) {
    let cookie = app.logged_in().await;
    let forged = format!("{cookie}x");
    let reply = app.get("/read", Some(&forged)).await;
    assert_eq!(reply.body, "Not logged in");
    assert_eq!(reply.set_cookie, [REMOVAL]);
    // A route that never touches the session removes it too.
    let plain = app.get("/plain", Some(&forged)).await;
    assert_eq!(plain.set_cookie, [REMOVAL]);
}
