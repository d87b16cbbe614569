//! End to end in a real headless Chromium, driven over WebDriver: the tutorial app as a user
//! sees it. Needs `chromium` and `chromedriver` (Debian packages `chromium`, `chromium-driver`;
//! the test set-up installs them). `CHROMIUM` and `CHROMEDRIVER` override their paths.

use sessionkit_testkit::http::{free_port, http_get, wait_for_port};
use sessionkit_testkit::{servers, temp};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A WebDriver session over plain HTTP/1.1, one connection per command.
struct Browser {
    port: u16,
    session: String,
    driver: Child,
}

impl Browser {
    fn start() -> Self {
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {chromedriver}: {e}; install Debian's chromium-driver")
            });
        wait_for_port(port);
        let profile = std::env::temp_dir().join(format!("sessionkit-chromium-{port}"));
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ];
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args}
        }}});
        let mut browser = Self {
            port,
            session: String::new(),
            driver,
        };
        let reply = browser.call("POST", "/session", &capabilities);
        reply["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .clone_into(&mut browser.session);
        browser
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let body = body.to_string();
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).expect("chromedriver listens");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let json = read_response(&mut stream);
        let value: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert!(
            value["value"].get("error").is_none(),
            "{method} {path}: {value}"
        );
        value["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: &Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn go(&self, url: &str) {
        self.session_call("POST", "/url", &json!({ "url": url }));
    }

    fn refresh(&self) {
        self.session_call("POST", "/refresh", &json!({}));
    }

    fn find(&self, css: &str) -> Option<String> {
        let found = self.session_call(
            "POST",
            "/elements",
            &json!({"using": "css selector", "value": css}),
        );
        let first = found
            .as_array()?
            .first()?
            .as_object()?
            .values()
            .next()?
            .as_str()?
            .to_owned();
        Some(first)
    }

    fn text(&self, css: &str) -> Option<String> {
        let element = self.find(css)?;
        Some(
            self.session_call("GET", &format!("/element/{element}/text"), &json!({}))
                .as_str()?
                .to_owned(),
        )
    }

    /// Polls `text(css)` until the element exists: a click's navigation is not always awaited.
    fn wait_text(&self, css: &str) -> Option<String> {
        wait(|| self.text(css))
    }

    /// Polls `texts(css)` until it equals `expected`, and returns what it saw last.
    fn wait_texts(&self, css: &str, expected: &[&str]) -> Vec<String> {
        let mut last = Vec::new();
        wait(|| {
            last = self.texts(css);
            (last == expected).then_some(())
        });
        last
    }

    fn texts(&self, css: &str) -> Vec<String> {
        let script =
            format!("return [...document.querySelectorAll('{css}')].map(e => e.textContent)");
        let value = self.script(&script);
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn click(&self, css: &str) {
        let element = self.find(css).unwrap_or_else(|| panic!("no element {css}"));
        self.session_call("POST", &format!("/element/{element}/click"), &json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).unwrap_or_else(|| panic!("no element {css}"));
        self.session_call(
            "POST",
            &format!("/element/{element}/value"),
            &json!({ "text": text }),
        );
    }

    fn script(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            &json!({"script": script, "args": []}),
        )
    }

    fn cookies(&self) -> Vec<Value> {
        self.session_call("GET", "/cookie", &json!({}))
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = std::panic::catch_unwind(|| {
                self.call("DELETE", &format!("/session/{}", self.session), &json!({}))
            });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Reads one HTTP response body by its `Content-Length` (chromedriver keeps connections open).
fn read_response(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).expect("chromedriver answers");
        assert!(n > 0, "chromedriver closed the connection early");
        buffer.extend_from_slice(&chunk[..n]);
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("a Content-Length");
        if buffer.len() >= end + 4 + length {
            return String::from_utf8(buffer[end + 4..end + 4 + length].to_vec()).unwrap();
        }
    }
}

/// Polls `probe` for up to 10 seconds.
fn wait<R>(mut probe: impl FnMut() -> Option<R>) -> Option<R> {
    let start = Instant::now();
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if start.elapsed() > Duration::from_secs(10) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The tutorial app, as `cargo run -p tutorial` starts it, killed with the guard.
struct Tutorial {
    port: u16,
    process: Child,
}

impl Tutorial {
    /// Starts the tutorial's binary on a free loopback port with `secret` as its key and a
    /// ten-minute lifetime: with the session data in the cookie, or in the store `--store`
    /// names.
    fn start(secret: &str, store: Option<&str>) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_tutorial"));
        command
            .args(["--port", &port.to_string(), "--lifetime", "10m"])
            .env("SESSION_SECRET", secret)
            .stdout(Stdio::null());
        if let Some(store) = store {
            command.args(["--store", store]);
        }
        let process = command.spawn().expect("the tutorial starts");
        wait_for_port(port);
        Self { port, process }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Tutorial {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A fresh 32-byte key, as `SESSION_SECRET` takes it (hex).
fn secret() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    hex::encode(key)
}

#[test]
fn register_reload_flash_once_http_only_log_out_and_nested_item() {
    let tutorial = Tutorial::start(&secret(), None);
    let browser = Browser::start();
    the_tutorial_works(&browser, &tutorial.base());
}

/// Record files under a file store's directory.
fn records(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for shard in std::fs::read_dir(dir).unwrap().flatten() {
        if shard.path().is_dir() {
            for entry in std::fs::read_dir(shard.path()).unwrap().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.len() == 64 {
                    found.push(entry.path());
                }
            }
        }
    }
    found
}

#[test]
fn the_tutorial_on_the_file_store_survives_a_restart_and_logout_deletes_the_record() {
    let dir = temp::TempDir::new("browser");
    let store = format!("file://{}", dir.path().display());
    let on_disk = || {
        records(dir.path())
            .iter()
            .map(|path| std::fs::read(path).unwrap())
            .collect::<Vec<_>>()
    };
    the_tutorial_on_a_store(&store, on_disk);
}

#[cfg(feature = "redis")]
#[test]
fn the_tutorial_on_redis_survives_a_restart_and_logout_deletes_the_record() {
    let Some(url) = servers::url("SESSIONKIT_REDIS_URL") else {
        return;
    };
    let client = redis::Client::open(url.as_str()).unwrap();
    // The tutorial uses the default key prefix: start from none of its keys.
    let mut connection = client.get_connection().unwrap();
    let stale: Vec<String> = redis::cmd("KEYS")
        .arg("sessionkit:*")
        .query(&mut connection)
        .unwrap();
    for key in stale {
        let _: () = redis::cmd("DEL").arg(key).query(&mut connection).unwrap();
    }
    let in_redis = || {
        let mut connection = client.get_connection().unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("sessionkit:[0-9a-f]*")
            .query(&mut connection)
            .unwrap();
        keys.iter()
            .map(|k| {
                redis::cmd("GET")
                    .arg(k)
                    .query::<Vec<u8>>(&mut connection)
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    the_tutorial_on_a_store(&url, in_redis);
}

/// The whole tutorial on a store, then: the cookie is a short signed id, the data is on the
/// server (`records` reads what the store holds), a second server on the same store (a
/// restart) knows the user, and logging out deletes the record.
fn the_tutorial_on_a_store(store: &str, records: impl Fn() -> Vec<Vec<u8>>) {
    let key = secret();
    let tutorial = Tutorial::start(&key, Some(store));
    let base = tutorial.base();
    let browser = Browser::start();
    the_tutorial_works(&browser, &base);

    browser.go(&format!("{base}/add"));
    browser.type_into("#username", "Grace");
    browser.click("#submit");
    assert_eq!(browser.wait_text("#user").as_deref(), Some("Grace"));
    browser.refresh();
    let cookie = browser
        .cookies()
        .into_iter()
        .find(|c| c["name"] == "session")
        .unwrap();
    let value = cookie["value"].as_str().unwrap().to_owned();
    assert_eq!(value.len(), 123);
    let held = records();
    assert_eq!(held.len(), 1);
    assert!(held[0].windows(5).any(|w| w == b"Grace"));

    // A second server on the same store and key (a restart, or another instance).
    let other = Tutorial::start(&key, Some(store));
    let reply = http_get(other.port, "/get", Some(&format!("session={value}")));
    assert_eq!(reply.body, "Hello, Grace!");

    // Logging out deletes the record; the notice lives in a new one until it is shown.
    browser.click("#logout");
    assert_eq!(
        browser.wait_text("#anonymous").as_deref(),
        Some("No username registered.")
    );
    browser.refresh();
    assert!(records().is_empty());
    let replayed = http_get(other.port, "/get", Some(&format!("session={value}")));
    assert_eq!(replayed.body, "Not logged in");
}

fn the_tutorial_works(browser: &Browser, base: &str) {
    browser.go(&format!("{base}/"));
    assert_eq!(
        browser.text("#anonymous").as_deref(),
        Some("No username registered.")
    );

    browser.click("#register");
    assert!(wait(|| browser.find("#username")).is_some());
    browser.type_into("#username", "Ada");
    browser.click("#submit");
    assert_eq!(browser.wait_text("#user").as_deref(), Some("Ada"));
    assert_eq!(
        browser.wait_texts(".notice", &["Welcome, Ada! Your username is registered."]),
        ["Welcome, Ada! Your username is registered."]
    );

    // Reload: still logged in, and the flash was shown once only.
    browser.refresh();
    assert_eq!(browser.wait_text("#user").as_deref(), Some("Ada"));
    assert!(browser.texts(".notice").is_empty());

    // The cookie is there, but scripts cannot see it.
    let cookies = browser.cookies();
    let session = cookies
        .iter()
        .find(|c| c["name"] == "session")
        .expect("a session cookie");
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Lax");
    assert_eq!(browser.script("return document.cookie"), "");

    browser.click("#logout");
    assert_eq!(
        browser.wait_text("#anonymous").as_deref(),
        Some("No username registered.")
    );
    assert_eq!(
        browser.wait_texts(".notice", &["Ada was removed from the session."]),
        ["Ada was removed from the session."]
    );
    browser.refresh();
    assert!(browser.find("#user").is_none());

    // The nested dict: remove `name`, and the change is kept with no `modified = True`.
    browser.go(&format!("{base}/item"));
    browser.click("#store");
    let stored = [
        "address -> Earth",
        "email -> soumitra@example.com",
        "name -> Soumitra",
    ];
    assert_eq!(browser.wait_texts("#item li", &stored), stored);
    browser.click("#remove-name");
    let kept = ["address -> Earth", "email -> soumitra@example.com"];
    assert_eq!(browser.wait_texts("#item li", &kept), kept);
    // Reloading reads the cookie again: the nested change was saved.
    browser.refresh();
    assert_eq!(browser.texts("#item li"), kept);
}
