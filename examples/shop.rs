//! The small app of the developer-experience review, written again from the cookbook alone:
//! login (with `renew()` and remember-me), a CSRF-protected cart, flash messages, logout.
//!
//! `SESSION_SECRET=$(openssl rand -hex 32) cargo run --example shop --features axum`, then
//! open <http://127.0.0.1:3001/>.

use std::time::Duration;

use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use sessionkit::axum::SessionLayer;
use sessionkit::{CsrfToken, Key, Session, SessionConfig};

#[derive(Session, Serialize, Deserialize, Default, Debug)]
#[session(lifetime = "12h")]
struct Shop {
    #[session(owner)]
    user: Option<String>,
    cart: Vec<u32>,
    #[session(flash)]
    flashes: Vec<String>,
    #[session(csrf)]
    csrf: CsrfToken,
}

async fn home(mut session: Session<Shop>) -> Html<String> {
    let notices = session.take_flashes().join(" ");
    let who = session.user().unwrap_or("guest").to_owned();
    let cart = format!("{:?}", session.cart());
    let token = session.csrf_token();
    Html(format!(
        r#"<p>{notices}</p><p>Hello {who}, your cart: {cart}</p>
<form method="post" action="/login"><input type="hidden" name="csrf" value="{token}">
<input name="user"> <label><input type="checkbox" name="remember"> remember me</label>
<button>log in</button></form>
<form method="post" action="/cart"><input type="hidden" name="csrf" value="{token}">
<input name="item" value="1"><button>add</button></form>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{token}">
<button>log out</button></form>"#
    ))
}

#[derive(Deserialize)]
struct Login {
    csrf: String,
    user: String,
    remember: Option<String>,
}

async fn login(mut session: Session<Shop>, Form(form): Form<Login>) -> Redirect {
    if !session.verify_csrf(&form.csrf) {
        session.flash("The form expired, try again");
        return Redirect::to("/");
    }
    session.renew();
    session.csrf.rotate();
    session.set_user(form.user);
    session.set_permanent(form.remember.is_some());
    session.flash("Logged in");
    Redirect::to("/")
}

#[derive(Deserialize)]
struct Add {
    csrf: String,
    item: u32,
}

async fn add(mut session: Session<Shop>, Form(form): Form<Add>) -> Redirect {
    if session.verify_csrf(&form.csrf) {
        session.cart_mut().push(form.item);
        session.flash("Added");
    }
    Redirect::to("/")
}

#[derive(Deserialize)]
struct Csrf {
    csrf: String,
}

async fn logout(mut session: Session<Shop>, Form(form): Form<Csrf>) -> Redirect {
    if session.verify_csrf(&form.csrf) {
        session.clear();
    }
    Redirect::to("/")
}

fn app(config: SessionConfig<Shop>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/cart", post(add))
        .route("/logout", post(logout))
        .layer(SessionLayer::new(config))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = SessionConfig::<Shop>::builder()
        .key(Key::from_env("SESSION_SECRET")?)
        .persistent_lifetime(Duration::from_secs(30 * 86_400))
        .idle_timeout(Duration::from_secs(30 * 60))
        // Plain HTTP on localhost: browsers keep `Secure` cookies from 127.0.0.1 anyway, but
        // other hosts need HTTPS.
        .build()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://127.0.0.1:3001");
    axum::serve(listener, app(config)).await?;
    Ok(())
}
