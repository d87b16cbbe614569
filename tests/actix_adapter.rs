//! The actix-web adapter, driven in-process: what only actix has (a missing middleware, a
//! guard reading the session). The scenarios both adapters share are in
//! `tests/adapter_scenarios.rs`.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::{test, web, App};
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

struct Reply {
    status: StatusCode,
    set_cookie: Vec<String>,
    vary: Vec<String>,
    body: String,
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
    let status = response.status();
    let body = test::read_body(response).await;
    Reply {
        status,
        set_cookie,
        vary,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
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
    let anonymous = send(&app, "/account", None).await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND);
    // The guard read the session: the answer depends on the cookie.
    assert_eq!(anonymous.vary, ["Cookie"]);
    let cookie = common::pair(&send(&app, "/set", None).await.set_cookie[0]);
    let account = send(&app, "/account", Some(&cookie)).await;
    assert_eq!(
        (account.status, account.body.as_str()),
        (StatusCode::OK, "alice")
    );
    assert!(account.set_cookie.is_empty());
}

/// `Session::now()` is the middleware's clock.
#[actix_web::test]
async fn the_session_tells_the_time_of_the_middlewares_clock() {
    use sessionkit::testing::{ActixClient, TestClock};
    use std::time::{Duration, UNIX_EPOCH};

    async fn when(session: Session<Data>) -> String {
        let at = session.now().duration_since(UNIX_EPOCH).unwrap();
        at.as_secs().to_string()
    }
    let clock = TestClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let middleware =
        SessionMiddleware::new(common::builder::<Data>().build().unwrap()).clock(clock.reader());
    let app = test::init_service(
        App::new()
            .wrap(middleware)
            .route("/when", web::get().to(when)),
    )
    .await;
    let mut client = ActixClient::new(app, clock.clone());
    assert_eq!(client.get("/when").await.body, "1700000000");
    clock.advance(Duration::from_secs(90));
    assert_eq!(client.get("/when").await.body, "1700000090");
}
