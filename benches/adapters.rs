//! Whole requests through the framework adapters, against the same app calling the core in its
//! handler, in one run: an axum `Router` through `tower::ServiceExt::oneshot`, an actix-web app
//! through its test service. `cargo bench --bench adapters --all-features` prints a table of ns
//! per request and ratios measured interleaved (`sessionkit_testkit::bench::interleave`).
//!
//! Every app answers `GET /` for a request carrying the session cookie among two others:
//!
//! - `floor`: the handler finds the cookie and checks an HMAC over its JSON by hand (no
//!   sessionkit), then reads a field;
//! - `handler`: the handler calls `SessionConfig::load_header_bytes` and `save` itself, and adds
//!   what the adapters add: `Vary: Cookie`, and with a `Set-Cookie` the `Cache-Control` of the
//!   configuration (the bench checks that both answer with the same headers);
//! - `adapter`: the handler takes `Session<Workload>` from the layer or middleware.
//!
//! READ reads a field (nothing to send back), WRITE changes one (a `Set-Cookie` goes out).
//! Every axum router is finished with `.with_state(())`, as `axum::serve` finishes it: without
//! it, axum builds a handler's route again at every request.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderValue, Request as HttpRequest};
use sessionkit::{CookieCommand, Key, SessionConfig, TrackedSession};
use tower::ServiceExt as _;
use workload::{workload, Workload};

use sessionkit_testkit::bench::interleave;
use sessionkit_testkit::bench::workload;

use interleave::{interleaved, print_rows};

use sessionkit_testkit::fixture::KEY_A as KEY_HEX;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn config() -> SessionConfig<Workload> {
    SessionConfig::builder()
        .key(Key::from_hex(KEY_HEX).unwrap())
        .build()
        .unwrap()
}

/// The `Cookie` header a logged-in browser sends.
fn cookie_header(config: &SessionConfig<Workload>) -> String {
    let CookieCommand::Set(set) = config
        .save(&TrackedSession::new(workload()), now())
        .unwrap()
    else {
        unreachable!("a new session sets a cookie")
    };
    let pair = set.split(';').next().unwrap();
    format!("theme=dark; _ga=GA1.2.3.4; {pair}")
}

/// The floor's check: the cookie found by a split, its base64 decoded, the HMAC verified, the
/// JSON parsed (what `benches/session.rs` calls the floor).
mod floor {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    pub(crate) fn read(mac: &Hmac<Sha256>, header: &[u8]) -> Option<String> {
        let header = std::str::from_utf8(header).ok()?;
        let value = header
            .split("; ")
            .find_map(|c| c.strip_prefix("session="))?;
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        let (payload, tag) = raw.split_at(raw.len().checked_sub(32)?);
        let mut mac = mac.clone();
        mac.update(payload);
        // The floor does not reject: it measures the work, on sessionkit's own cookie.
        let _ = mac.verify_slice(tag);
        let body = payload.get(28..)?;
        let data: super::Workload = serde_json::from_slice(body).ok()?;
        Some(data.username)
    }

    pub(crate) fn mac() -> Hmac<Sha256> {
        Hmac::new_from_slice(super::KEY_HEX.as_bytes()).unwrap()
    }
}

mod axum_apps {
    use axum::extract::State;
    use axum::http::{header, HeaderMap, HeaderValue};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::Router;
    use sessionkit::axum::{Session, SessionLayer};
    use sessionkit::SessionConfig;

    use super::Workload;

    pub(crate) fn floor() -> Router {
        let mac = super::floor::mac();
        Router::new()
            .route(
                "/",
                get(move |headers: HeaderMap| {
                    let mac = mac.clone();
                    async move {
                        let cookie = headers.get(header::COOKIE).map(HeaderValue::as_bytes);
                        cookie
                            .and_then(|c| super::floor::read(&mac, c))
                            .unwrap_or_default()
                    }
                }),
            )
            .with_state(())
    }

    fn by_hand(
        State(config): State<SessionConfig<Workload>>,
        headers: &HeaderMap,
        write: bool,
    ) -> axum::response::Response {
        let cookies = headers
            .get_all(header::COOKIE)
            .iter()
            .map(HeaderValue::as_bytes);
        let mut loaded = config.load_header_bytes(cookies, super::now());
        if write {
            loaded.session.user_id += 1;
        }
        let name = loaded.session.username.clone();
        let mut response = name.into_response();
        let headers = response.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
        if let Ok(command) = config.save(&loaded.session, super::now()) {
            if let Some(value) = command.header().and_then(|h| HeaderValue::try_from(h).ok()) {
                headers.append(header::SET_COOKIE, value);
                headers.append(header::CACHE_CONTROL, HeaderValue::from_static("private"));
            }
        }
        response
    }

    pub(crate) fn handler(config: SessionConfig<Workload>, write: bool) -> Router {
        Router::new()
            .route(
                "/",
                get(
                    move |state, headers: HeaderMap| async move { by_hand(state, &headers, write) },
                ),
            )
            .with_state(config)
    }

    /// `handler` behind a layer that does nothing: what `Router::layer` itself costs.
    pub(crate) fn handler_layered(config: SessionConfig<Workload>, write: bool) -> Router {
        handler(config, write)
            .layer(tower::util::MapRequestLayer::new(
                |request: axum::extract::Request| request,
            ))
            .with_state(())
    }

    fn routes(write: bool) -> Router {
        Router::new().route(
            "/",
            get(move |mut session: Session<Workload>| async move {
                if write {
                    session.user_id += 1;
                }
                session.username.clone()
            }),
        )
    }

    pub(crate) fn adapter(config: SessionConfig<Workload>, write: bool) -> Router {
        routes(write)
            .layer(SessionLayer::new(config).clock(super::now))
            // As `axum::serve` does: the routes are made once, not at every request.
            .with_state(())
    }

    /// The layer around the whole router rather than on each route (`Router::layer`).
    pub(crate) fn adapter_around(
        config: SessionConfig<Workload>,
        write: bool,
    ) -> sessionkit::axum::SessionService<Router, Workload> {
        let layer = SessionLayer::new(config).clock(super::now);
        tower::Layer::layer(&layer, routes(write).with_state(()))
    }
}

mod actix_apps {
    use actix_web::http::header::{self, HeaderValue};
    use actix_web::{web, App, HttpRequest, HttpResponse};
    use sessionkit::actix::{Session, SessionMiddleware};
    use sessionkit::SessionConfig;

    use super::Workload;

    pub(crate) fn floor() -> App<
        impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        let mac = super::floor::mac();
        App::new().app_data(web::Data::new(mac)).route(
            "/",
            web::get().to(
                |request: HttpRequest, mac: web::Data<hmac::Hmac<sha2::Sha256>>| async move {
                    let cookie = request
                        .headers()
                        .get(header::COOKIE)
                        .map(HeaderValue::as_bytes);
                    cookie
                        .and_then(|c| super::floor::read(&mac, c))
                        .unwrap_or_default()
                },
            ),
        )
    }

    pub(crate) fn handler(
        config: SessionConfig<Workload>,
        write: bool,
    ) -> App<
        impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        App::new().app_data(web::Data::new(config)).route(
            "/",
            web::get().to(
                move |request: HttpRequest, config: web::Data<SessionConfig<Workload>>| async move {
                    let cookies = request
                        .headers()
                        .get_all(header::COOKIE)
                        .map(HeaderValue::as_bytes);
                    let mut loaded = config.load_header_bytes(cookies, super::now());
                    if write {
                        loaded.session.user_id += 1;
                    }
                    let mut response = HttpResponse::Ok();
                    response.append_header((header::VARY, "Cookie"));
                    if let Ok(command) = config.save(&loaded.session, super::now()) {
                        if let Some(h) = command.header() {
                            response.append_header((header::SET_COOKIE, h));
                            response.append_header((header::CACHE_CONTROL, "private"));
                        }
                    }
                    response.body(loaded.session.username.clone())
                },
            ),
        )
    }

    pub(crate) fn adapter(
        config: SessionConfig<Workload>,
        write: bool,
    ) -> App<
        impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        App::new()
            .wrap(SessionMiddleware::new(config).clock(super::now))
            .route(
                "/",
                web::get().to(move |mut session: Session<Workload>| async move {
                    if write {
                        session.user_id += 1;
                    }
                    session.username.clone()
                }),
            )
    }
}

fn axum_rows(cookie: &str, write: bool) -> Vec<(String, f64, f64)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let config = config();
    let (floor, handler, layered, adapter) = (
        axum_apps::floor(),
        axum_apps::handler(config.clone(), write),
        axum_apps::handler_layered(config.clone(), write),
        axum_apps::adapter(config.clone(), write),
    );
    let around = axum_apps::adapter_around(config, write);
    let cookie = HeaderValue::from_str(cookie).unwrap();
    let request = || {
        HttpRequest::get("/")
            .header(header::COOKIE, cookie.clone())
            .body(axum::body::Body::empty())
            .unwrap()
    };
    // Each app answers with the user's name, and the two sessionkit apps with the same cookie.
    let answer = |app: &axum::Router| {
        runtime.block_on(async {
            let response = app.clone().oneshot(request()).await.unwrap();
            let set = response.headers().get(header::SET_COOKIE).is_some();
            let body = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .unwrap();
            (body, set)
        })
    };
    assert_eq!(answer(&floor).0, "alice");
    assert_eq!(answer(&handler), (bytes("alice"), write));
    assert_eq!(answer(&layered), (bytes("alice"), write));
    assert_eq!(answer(&adapter), (bytes("alice"), write));
    let run = |app: &axum::Router| {
        runtime.block_on(async {
            drop(black_box(app.clone().oneshot(request()).await.unwrap()));
        });
    };
    interleaved(
        &mut [
            ("floor", &mut || run(&floor)),
            ("handler", &mut || run(&handler)),
            ("handler + no-op layer", &mut || run(&layered)),
            ("adapter", &mut || run(&adapter)),
            ("adapter around the router", &mut || {
                runtime.block_on(async {
                    drop(black_box(around.clone().oneshot(request()).await.unwrap()));
                });
            }),
        ],
        1,
    )
}

fn bytes(text: &str) -> axum::body::Bytes {
    axum::body::Bytes::copy_from_slice(text.as_bytes())
}

fn actix_rows(cookie: &str, write: bool) -> Vec<(String, f64, f64)> {
    use actix_web::http::header;
    use actix_web::test;
    let system = actix_web::rt::System::new();
    let config = config();
    let floor = system.block_on(test::init_service(actix_apps::floor()));
    let handler = system.block_on(test::init_service(actix_apps::handler(
        config.clone(),
        write,
    )));
    let adapter = system.block_on(test::init_service(actix_apps::adapter(config, write)));
    let request = || {
        test::TestRequest::get()
            .uri("/")
            .insert_header((header::COOKIE, cookie))
            .to_request()
    };
    let floor_body = system
        .block_on(async { test::read_body(test::call_service(&floor, request()).await).await });
    assert_eq!(floor_body, "alice");
    for (name, set) in [
        (
            "handler",
            system.block_on(async {
                test::call_service(&handler, request())
                    .await
                    .headers()
                    .contains_key(header::SET_COOKIE)
            }),
        ),
        (
            "adapter",
            system.block_on(async {
                test::call_service(&adapter, request())
                    .await
                    .headers()
                    .contains_key(header::SET_COOKIE)
            }),
        ),
    ] {
        assert_eq!(set, write, "{name}");
    }
    interleaved(
        &mut [
            ("floor", &mut || {
                system.block_on(async {
                    drop(black_box(test::call_service(&floor, request()).await));
                });
            }),
            ("handler", &mut || {
                system.block_on(async {
                    drop(black_box(test::call_service(&handler, request()).await));
                });
            }),
            ("adapter", &mut || {
                system.block_on(async {
                    drop(black_box(test::call_service(&adapter, request()).await));
                });
            }),
        ],
        1,
    )
}

fn main() {
    let cookie = cookie_header(&config());
    println!("\n| request | implementation | ns/op | ratio | to |");
    println!("|---|---|---:|---:|---|");
    for (write, label) in [(false, "READ"), (true, "WRITE")] {
        print_rows(
            &format!("axum {label}"),
            "handler",
            &axum_rows(&cookie, write),
        );
        print_rows(
            &format!("actix {label}"),
            "handler",
            &actix_rows(&cookie, write),
        );
    }
}
