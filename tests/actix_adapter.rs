//! The actix-web adapter, driven in-process: what only actix has (a missing middleware, a
//! guard reading the session). The scenarios both adapters share are in
//! `tests/adapter_scenarios.rs`.

mod common;

use actix_web::{test, web, App};
use serde::{Deserialize, Serialize};
use sessionkit::actix::{Session, SessionMiddleware};
use sessionkit::testing::{ActixClient, TestClock};
use std::time::SystemTime;

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

#[actix_web::test]
async fn a_missing_middleware_is_a_500_that_names_the_fix() {
    let app = test::init_service(App::new().route("/read", web::get().to(read))).await;
    let reply = ActixClient::new(app, TestClock::new(SystemTime::now()))
        .get("/read")
        .await;
    assert_eq!(reply.status, 500);
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
    let mut browser = ActixClient::new(app, TestClock::new(SystemTime::now()));
    let anonymous = browser.get("/account").await;
    assert_eq!(anonymous.status, 404);
    // The guard read the session: the answer depends on the cookie.
    assert_eq!(anonymous.header_values("vary"), ["Cookie"]);
    assert_eq!(
        browser.get("/set").await.header_values("set-cookie").len(),
        1
    );
    let account = browser.get("/account").await;
    assert_eq!((account.status, account.body.as_str()), (200, "alice"));
    assert!(account.header_values("set-cookie").is_empty());
}

/// `Session::now()` is the middleware's clock.
#[actix_web::test]
async fn the_session_tells_the_time_of_the_middlewares_clock() {
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
