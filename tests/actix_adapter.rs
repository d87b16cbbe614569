//! The actix-web adapter, driven in-process: what each request sends back.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::{test, web, App, HttpResponse};
use serde::{Deserialize, Serialize};
use sessionkit::actix::{Session, SessionMiddleware};

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
struct Data {
    user: Option<String>,
}

async fn set(mut session: Session<Data>) -> &'static str {
    session.set_user("alice");
    "set"
}

async fn read(session: Session<Data>) -> String {
    session.user().unwrap_or("Not logged in").to_owned()
}

async fn pop(mut session: Session<Data>) -> String {
    session.pop_user().unwrap_or_default()
}

async fn clear(mut session: Session<Data>) -> &'static str {
    session.clear();
    "cleared"
}

async fn fail(mut session: Session<Data>) -> HttpResponse {
    session.set_user("mallory");
    HttpResponse::InternalServerError().finish()
}

async fn set_varying(mut session: Session<Data>) -> HttpResponse {
    session.set_user("alice");
    HttpResponse::Ok()
        .insert_header((header::VARY, "Accept-Encoding, cookie"))
        .body("set")
}

async fn set_no_store(mut session: Session<Data>) -> HttpResponse {
    session.set_user("alice");
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body("set")
}

struct Reply {
    status: StatusCode,
    set_cookie: Vec<String>,
    vary: Vec<String>,
    cache_control: Vec<String>,
    body: String,
}

/// The test app; a macro because actix's service type cannot be named.
macro_rules! app {
    () => {{
        let middleware = SessionMiddleware::new(common::builder::<Data>().build().unwrap());
        test::init_service(
            App::new()
                .wrap(middleware)
                .route("/set", web::get().to(set))
                .route("/read", web::get().to(read))
                .route("/pop", web::get().to(pop))
                .route("/clear", web::get().to(clear))
                .route("/fail", web::get().to(fail))
                .route("/set-varying", web::get().to(set_varying))
                .route("/set-no-store", web::get().to(set_no_store)),
        )
        .await
    }};
}

async fn send<S>(app: &S, path: &str, cookie: Option<&str>) -> Reply
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    send_bytes(app, path, cookie.map(str::as_bytes)).await
}

/// Sends a `Cookie` header of any bytes, as a browser may.
async fn send_bytes<S>(app: &S, path: &str, cookie: Option<&[u8]>) -> Reply
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    let mut request = test::TestRequest::get().uri(path);
    if let Some(cookie) = cookie {
        let value = header::HeaderValue::from_bytes(cookie).unwrap();
        request = request.insert_header((header::COOKIE, value));
    }
    let response = test::call_service(app, request.to_request()).await;
    let all = |name| {
        response
            .headers()
            .get_all(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (set_cookie, vary) = (all(header::SET_COOKIE), all(header::VARY));
    let cache_control = all(header::CACHE_CONTROL);
    let status = response.status();
    let body = test::read_body(response).await;
    Reply {
        status,
        set_cookie,
        vary,
        cache_control,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

#[actix_web::test]
async fn set_read_pop_and_clear() {
    let app = app!();
    let set = send(&app, "/set", None).await;
    assert_eq!(set.set_cookie.len(), 1);
    let cookie = common::pair(&set.set_cookie[0]);

    let read = send(&app, "/read", Some(&cookie)).await;
    assert_eq!(read.body, "alice");
    assert!(
        read.set_cookie.is_empty(),
        "unchanged request sent {:?}",
        read.set_cookie
    );
    assert_eq!(read.vary, ["Cookie"]);

    let pop = send(&app, "/pop", Some(&cookie)).await;
    assert_eq!(pop.body, "alice");
    assert_eq!(
        pop.set_cookie,
        ["session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
    );

    let clear = send(&app, "/clear", Some(&cookie)).await;
    assert_eq!(
        clear.set_cookie,
        ["session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
    );
}

#[actix_web::test]
async fn a_tampered_cookie_is_a_fresh_session() {
    let app = app!();
    let cookie = common::pair(&send(&app, "/set", None).await.set_cookie[0]);
    // The first character carries the envelope version: 'A' -> 'B' changes it.
    let tampered = cookie.replacen("session=A", "session=B", 1);
    assert_ne!(tampered, cookie);
    let reply = send(&app, "/read", Some(&tampered)).await;
    assert_eq!(reply.body, "Not logged in");
    // The refused cookie is removed, so the browser stops sending it.
    assert_eq!(
        reply.set_cookie,
        ["session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
    );
}

#[actix_web::test]
async fn a_server_error_saves_nothing() {
    let app = app!();
    let reply = send(&app, "/fail", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.set_cookie.is_empty());
}

#[actix_web::test]
async fn a_missing_middleware_is_a_500_that_names_the_fix() {
    let app = test::init_service(App::new().route("/read", web::get().to(read))).await;
    let reply = send(&app, "/read", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        reply
            .body
            .contains(".wrap(sessionkit::actix::SessionMiddleware::new(config))"),
        "{}",
        reply.body
    );
}

#[actix_web::test]
async fn a_non_ascii_byte_in_another_cookie_keeps_the_user_logged_in() {
    let app = app!();
    let set = send(&app, "/set", None).await;
    let cookie = common::pair(&set.set_cookie[0]);
    for other in [
        "display_name=Zo\u{eb}".as_bytes(),
        b"legacy=caf\xe9",
        b"emoji=\xf0\x9f\x8d\xaa; city=K\xc3\xb8benhavn",
    ] {
        let mut header = other.to_vec();
        header.extend_from_slice(b"; ");
        header.extend_from_slice(cookie.as_bytes());
        let reply = send_bytes(&app, "/read", Some(&header)).await;
        assert_eq!(reply.body, "alice", "{}", String::from_utf8_lossy(other));
        assert!(reply.set_cookie.is_empty());
    }
    let mut own = cookie.into_bytes();
    own.push(0xe9);
    assert_eq!(
        send_bytes(&app, "/read", Some(&own)).await.body,
        "Not logged in"
    );
}

#[actix_web::test]
async fn vary_from_the_handler_is_kept_and_not_doubled() {
    let app = app!();
    let reply = send(&app, "/set-varying", None).await;
    assert_eq!(reply.vary, ["Accept-Encoding, cookie"]);
    assert_eq!(reply.set_cookie.len(), 1);
}

#[actix_web::test]
async fn a_response_that_sets_the_cookie_is_private_unless_the_handler_chose() {
    let app = app!();
    let set = send(&app, "/set", None).await;
    assert_eq!(set.cache_control, ["private"]);
    assert_eq!(
        send(&app, "/set-no-store", None).await.cache_control,
        ["no-store"]
    );
    let cookie = common::pair(&set.set_cookie[0]);
    assert!(send(&app, "/read", Some(&cookie))
        .await
        .cache_control
        .is_empty());
}

/// A guard reads the typed session before the handler, without taking it.
#[actix_web::test]
async fn a_guard_reads_the_session_before_the_handler() {
    use actix_web::guard::{self, GuardContext};

    fn signed_in(ctx: &GuardContext<'_>) -> bool {
        sessionkit::actix::read_session(&ctx.req_data(), |s: &sessionkit::TrackedSession<Data>| {
            s.user().is_some()
        }) == Some(true)
    }
    let middleware = SessionMiddleware::new(common::builder::<Data>().build().unwrap());
    let app = test::init_service(
        App::new()
            .wrap(middleware)
            .route("/set", web::get().to(set))
            .service(
                web::resource("/account")
                    .guard(guard::fn_guard(signed_in))
                    .to(read),
            ),
    )
    .await;
    assert_eq!(
        send(&app, "/account", None).await.status,
        StatusCode::NOT_FOUND
    );
    let cookie = common::pair(&send(&app, "/set", None).await.set_cookie[0]);
    let account = send(&app, "/account", Some(&cookie)).await;
    assert_eq!(
        (account.status, account.body.as_str()),
        (StatusCode::OK, "alice")
    );
}

/// A refused cookie is removed from the browser, so it is not sent (and checked) again.
#[actix_web::test]
async fn a_refused_cookie_is_removed() {
    let app = app!();
    let cookie = common::pair(&send(&app, "/set", None).await.set_cookie[0]);
    let reply = send(&app, "/read", Some(&format!("{cookie}x"))).await;
    assert_eq!(reply.body, "Not logged in");
    assert_eq!(
        reply.set_cookie,
        ["session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
    );
}
