//! The tutorial's pages: plain Rust functions, so the compiler checks every one of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Notice;

/// Escapes text for HTML element content and quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}\
         .notice{{background:#e7f5e7;padding:.5em 1em;border-radius:4px}}</style></head>\
         <body><h1>{title}</h1>{body}\
         <p><a href=\"/\">Home</a> · <a href=\"/item\">Nested item</a> · <a href=\"/get\">/get</a></p>\
         </body></html>\n"
    )
}

fn notice_text(notice: &Notice) -> String {
    match notice {
        Notice::Registered { user } => {
            format!("Welcome, {}! Your username is registered.", escape(user))
        }
        Notice::LoggedOut { user } => format!("{} was removed from the session.", escape(user)),
    }
}

/// `/`: the user with a "Log out" button, or a "Register" button; then the notices.
pub(crate) fn home(user: Option<&str>, notices: &[Notice]) -> String {
    let mut body = String::new();
    for notice in notices {
        let _ = write!(body, "<p class=\"notice\">{}</p>", notice_text(notice));
    }
    match user {
        Some(user) => {
            let _ = write!(
                body,
                "<p>Logged in as <strong id=\"user\">{}</strong></p>\
                 <form method=\"post\" action=\"/remove\"><button id=\"logout\">Log out</button></form>",
                escape(user)
            );
        }
        None => body.push_str(
            "<p id=\"anonymous\">No username registered.</p>\
             <form method=\"get\" action=\"/add\"><button id=\"register\">Register</button></form>",
        ),
    }
    layout("Session tutorial", &body)
}

/// `/add`: the username form, with an error after a bad submission.
pub(crate) fn add_form(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "{error}<p>Please enter a username.</p><form method=\"post\" action=\"/add\">\
         <input id=\"username\" name=\"username\" maxlength=\"64\" required>\
         <button id=\"submit\">Submit</button></form>"
    );
    layout("Register", &body)
}

/// `/item`: the nested dict, with buttons to store it and to remove its `name`.
pub(crate) fn item(item: &BTreeMap<String, String>) -> String {
    let mut body = String::new();
    if item.is_empty() {
        body.push_str("<p id=\"no-item\">No item stored.</p>");
    } else {
        body.push_str("<ul id=\"item\">");
        for (key, value) in item {
            let _ = write!(body, "<li>{} -&gt; {}</li>", escape(key), escape(value));
        }
        body.push_str("</ul>");
    }
    body.push_str(
        "<form method=\"post\" action=\"/item/store\"><button id=\"store\">Store item</button></form>\
         <form method=\"post\" action=\"/item/remove-name\"><button id=\"remove-name\">Remove name</button></form>",
    );
    layout("Nested item", &body)
}
