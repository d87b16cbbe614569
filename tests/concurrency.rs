//! One configuration shared by many threads gives the same results as sequential use.

mod common;

use std::sync::Arc;

use common::*;
use sessionkit::CookieCommand;

/// One request: load `cookie`, add `item` to the cart, store. Returns the new header.
fn request(config: &sessionkit::SessionConfig<App>, cookie: &str, item: u32, now: u64) -> String {
    let mut loaded = config.load(cookie, at(now));
    assert_eq!(loaded.rejected, None);
    loaded.session.cart.push(item);
    match config.save(&loaded.session, at(now)).unwrap() {
        CookieCommand::Set(header) => header,
        other => panic!("{other:?}"),
    }
}

/// Each user's chain of requests, as a list of every `Set-Cookie` produced.
fn chain(config: &sessionkit::SessionConfig<App>, user: u32) -> Vec<String> {
    let first = App {
        user: Some(format!("user{user}")),
        cart: vec![],
    };
    let mut cookie = mint(config, first, T0);
    let mut headers = Vec::new();
    for step in 0..50 {
        let header = request(config, &cookie, user * 1000 + step, T0 + u64::from(step));
        cookie = pair(&header);
        headers.push(header);
    }
    headers
}

#[test]
fn threads_sharing_a_config_get_the_sequential_results() {
    let config = Arc::new(config());
    let sequential: Vec<Vec<String>> = (0..16).map(|user| chain(&config, user)).collect();
    let handles: Vec<_> = (0..16)
        .map(|user| {
            let config = Arc::clone(&config);
            std::thread::spawn(move || chain(&config, user))
        })
        .collect();
    let parallel: Vec<Vec<String>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(parallel, sequential);
    let last = config.load(&pair(&parallel[3][49]), at(T0 + 60));
    assert_eq!(last.session.cart, (3000..3050).collect::<Vec<u32>>());
}
