//! The end of a request: what to send, and with a store, what to write first.

use super::outcome::CookieCommand;
use super::record::{Record, Records};
use super::Engine;
use crate::carrier::Outgoing;
use crate::decide::{Action, Plan};
use crate::error::SaveError;
use crate::id::{SessionId, StoreKey};
use crate::lifetime::{to_ms, Lifetime, Stamp};
use crate::schema::SessionSchema;
use crate::session::{Incoming, Refused, Stored, TrackedSession};

/// What the end of a request does.
#[derive(Debug)]
pub(crate) enum Work<'s> {
    /// Send this, with no store operation.
    Send(CookieCommand),
    /// Run this store operation, then [`finish`](Engine::finish) with its outcome. Boxed:
    /// cookie mode moves this enum around on every request, and stays as small as its cookie.
    Store(Box<StoreOp<'s>>),
}

/// A store operation the driver runs for a planned save.
#[derive(Debug)]
pub(crate) enum StoreOp<'s> {
    /// Move the record's expiry, data unchanged (a refresh).
    Touch {
        stored: Stored,
        expires_at_ms: u64,
        stamp: Stamp,
    },
    /// Write a new record, under a new id (after deleting `replaces`, the record of a session
    /// cleared and then filled again).
    Create {
        replaces: Option<StoreKey>,
        json: Vec<u8>,
        owner: Option<String>,
        stamp: Stamp,
    },
    /// Compare-and-swap the record read at `stored.version`, in place or moved to `to` (a
    /// renewal). `loaded` is the JSON this request read, for a merge.
    Swap {
        stored: Stored,
        to: Option<(SessionId, StoreKey)>,
        loaded: &'s [u8],
        json: Vec<u8>,
        owner: Option<String>,
        stamp: Stamp,
        /// Send the cookie again even when the id did not change.
        resend: bool,
    },
    /// End the session whose record is `stored`. `base` is what this request read; a racing
    /// write merged in keeps the session alive under `stamp`.
    Remove {
        stored: Stored,
        base: &'s [u8],
        stamp: Stamp,
    },
}

/// A three-way merge of a conflicting write: the JSON to write and its indexed owner.
#[derive(Debug)]
pub(crate) struct Merged {
    pub(crate) json: Vec<u8>,
    pub(crate) owner: Option<String>,
}

/// How a store operation ended, for [`Engine::finish`].
#[derive(Debug)]
pub(crate) enum Done {
    /// The record under `id` is the session now: send its cookie.
    Stored(SessionId, Stamp),
    /// Nothing to send.
    Unchanged,
    /// The session ended: remove the cookie.
    Removed,
}

impl<T: SessionSchema> Engine<T> {
    /// Plans the save of `session` at `now`. An untouched session is not serialized; a touched
    /// one is compared with what came in, and a cookie goes out only on a real change, a key
    /// rotation, a change of permanence, a renewal, or when the refresh policy says so.
    pub(crate) fn plan<'s>(
        &self,
        session: &'s TrackedSession<T>,
        now: u64,
    ) -> Result<Work<'s>, SaveError> {
        if session.refusal() == Refused::Unread {
            // The load failed: writing would replace the cookie of the session that could not
            // be read, and log its user out.
            return Ok(Work::Send(CookieCommand::Unchanged));
        }
        let refresh_all = self.carrier.refreshes_browser_sessions();
        let mut plan = Plan::new(session, self.permanent, &self.lifetime, refresh_all, now);
        plan.remove_refused = self.carrier.removes_refused();
        let outgoing = if plan.needs_payload() {
            let empty = &self.empty_payload;
            Some(self.carrier.outgoing(session, plan.stamp, empty)?)
        } else {
            None
        };
        let action = plan.decide(
            session,
            outgoing.as_ref().map(|o| (o.json(), o.empty)),
            |incoming| {
                outgoing
                    .as_ref()
                    .is_some_and(|o| o.same(&**session, incoming))
            },
        );
        match action {
            Action::Keep => Ok(Work::Send(CookieCommand::Unchanged)),
            Action::Remove => Ok(self.end(session, now)),
            Action::Resign(stamp) => self.again(session, stamp, now),
            Action::Write(stamp) => match outgoing {
                Some(outgoing) => self.write(session, outgoing, stamp, plan.must_write, now),
                None => Ok(Work::Send(CookieCommand::Unchanged)),
            },
        }
    }

    /// The session was emptied: its record ends (with a store), its cookie goes. Out of line,
    /// as the other rare endings: the write path stays small.
    #[inline(never)]
    fn end<'s>(&self, session: &'s TrackedSession<T>, now: u64) -> Work<'s> {
        let Some((incoming, stored)) = session
            .incoming()
            .and_then(|i| Some((i, i.server.clone()?)))
        else {
            return Work::Send(self.removal());
        };
        Work::Store(Box::new(StoreOp::Remove {
            stored,
            base: incoming.payload(),
            stamp: Lifetime::next_stamp(Some(incoming.times()), incoming.permanent, now),
        }))
    }

    /// The unchanged session goes out again with new times: re-signed, or with a store, its
    /// record's expiry moved (a data-free touch).
    #[inline(never)]
    fn again<'s>(
        &self,
        session: &'s TrackedSession<T>,
        stamp: Stamp,
        now: u64,
    ) -> Result<Work<'s>, SaveError> {
        let Some(incoming) = session.current_incoming() else {
            return Ok(Work::Send(CookieCommand::Unchanged));
        };
        if let Some(stored) = &incoming.server {
            return Ok(Work::Store(Box::new(StoreOp::Touch {
                stored: stored.clone(),
                expires_at_ms: self.lifetime.expires_at_ms(stamp, now),
                stamp,
            })));
        }
        let outgoing = self
            .carrier
            .resigned(incoming, stamp, &self.empty_payload)?;
        self.send(outgoing, stamp, None, now).map(Work::Send)
    }

    /// Changed data goes out: in a new cookie, or with a store, in a new record or a
    /// compare-and-swap of the one read (moving to a new id after `renew()`).
    #[inline]
    fn write<'s>(
        &self,
        session: &'s TrackedSession<T>,
        outgoing: Outgoing,
        stamp: Stamp,
        must_write: bool,
        now: u64,
    ) -> Result<Work<'s>, SaveError> {
        let Some(records) = &self.records else {
            if session.incoming().is_none() {
                crate::observe::created();
            }
            let renewed_from = session.incoming().filter(|_| session.was_renewed());
            return self
                .send(outgoing, stamp, renewed_from, now)
                .map(Work::Send);
        };
        self.write_record(
            records,
            session,
            outgoing.into_json(),
            stamp,
            must_write,
            now,
        )
    }

    /// [`write`](Self::write) with a store: a new record, or a compare-and-swap of the one
    /// read. Kept out of line: the cookie path stays small.
    #[inline(never)]
    fn write_record<'s>(
        &self,
        records: &Records,
        session: &'s TrackedSession<T>,
        json: Vec<u8>,
        stamp: Stamp,
        must_write: bool,
        now: u64,
    ) -> Result<Work<'s>, SaveError> {
        let owner = records.indexed_owner(session.owner())?;
        let current = session.current_incoming();
        let Some((loaded, stored)) = current.and_then(|i| Some((i.payload(), i.server.clone()?)))
        else {
            // Cleared, then filled again: the old record goes, a new id comes.
            let replaces = session
                .incoming()
                .and_then(|i| Some(i.server.as_ref()?.key));
            return Ok(Work::Store(Box::new(StoreOp::Create {
                replaces,
                json,
                owner,
                stamp,
            })));
        };
        let to = if session.was_renewed() {
            // In the tag (the partition of a clustered store) of the id it replaces, so that
            // the atomic rotate touches one partition.
            let id = SessionId::generate_with_tag(stored.id.tag()).map_err(SaveError::Store)?;
            let key = records.key(&id);
            Some((id, key))
        } else {
            None
        };
        let resend = must_write || self.expiry_moved(current, stamp, now);
        Ok(Work::Store(Box::new(StoreOp::Swap {
            stored,
            to,
            loaded,
            json,
            owner,
            stamp,
            resend,
        })))
    }

    /// Whether a write at `now` moves the end of a persistent cookie's life: a cookie with a
    /// `Max-Age` must be sent again when the record it points to lives longer, or the browser
    /// drops it while the session is still live (as cookie mode re-sends on every write).
    fn expiry_moved(&self, current: Option<&Incoming>, stamp: Stamp, now: u64) -> bool {
        let before = current.and_then(|i| i.expires_at);
        stamp.permanent && before != Some(self.lifetime.expires_at(stamp, now))
    }

    /// The cookie to send once a store operation ended as `done`.
    pub(crate) fn finish(&self, done: Done, now: u64) -> Result<CookieCommand, SaveError> {
        match done {
            Done::Stored(id, stamp) => self.header(
                |out| self.carrier.seal_id(id.as_bytes(), stamp, out),
                stamp,
                now,
            ),
            Done::Unchanged => Ok(CookieCommand::Unchanged),
            Done::Removed => Ok(self.removal()),
        }
    }

    /// The cookie that carries `outgoing`.
    #[inline]
    fn send(
        &self,
        outgoing: Outgoing,
        stamp: Stamp,
        renewed_from: Option<&Incoming>,
        now: u64,
    ) -> Result<CookieCommand, SaveError> {
        let stamp = self.carrier.signing_stamp(stamp, now);
        self.header(
            |out| self.carrier.seal(outgoing, stamp, renewed_from, out),
            stamp,
            now,
        )
    }

    /// The removal cookie, with the same attributes.
    pub(crate) fn removal(&self) -> CookieCommand {
        CookieCommand::Remove(self.layout.removal().to_owned())
    }

    /// Builds the `Set-Cookie` value around the cookie value `write_value` appends, and checks
    /// its length.
    #[inline]
    fn header(
        &self,
        write_value: impl FnOnce(&mut String) -> Result<(), SaveError>,
        stamp: Stamp,
        now: u64,
    ) -> Result<CookieCommand, SaveError> {
        let mut header = String::with_capacity(self.name.len() + 384);
        header.push_str(&self.name);
        header.push('=');
        write_value(&mut header)?;
        let expiry = stamp.permanent.then(|| self.lifetime.max_age(stamp, now));
        self.layout.attributes(&mut header, expiry, now);
        if header.len() > self.max_cookie_bytes {
            return Err(SaveError::TooLarge {
                bytes: header.len(),
                limit: self.max_cookie_bytes,
            });
        }
        Ok(CookieCommand::Set(header))
    }

    /// The records a configuration with a store writes.
    fn records(&self) -> Result<&Records, SaveError> {
        self.records.as_ref().ok_or(SaveError::NeedsAsync)
    }

    /// The key `id`'s record is stored under.
    pub(crate) fn key(&self, id: &SessionId) -> Result<StoreKey, SaveError> {
        Ok(self.records()?.key(id))
    }

    /// The record of `json` under `key` at `version`, stamped `stamp` at `now`.
    pub(crate) fn record(
        &self,
        key: &StoreKey,
        version: u64,
        json: &[u8],
        owner: Option<String>,
        stamp: Stamp,
        now: u64,
    ) -> Result<Record, SaveError> {
        let created_at = to_ms(stamp.created_at);
        Ok(Record {
            version,
            created_at,
            expires_at: self.lifetime.expires_at_ms(stamp, now),
            owner,
            payload: self.records()?.payload(key, created_at, T::VERSION, json)?,
        })
    }

    /// The end of a session as a record at `version`: expired since the epoch's first
    /// millisecond, whatever the clocks say, so no load sees it and a racing write is `Gone`.
    pub(crate) fn tombstone(&self, key: &StoreKey, version: u64) -> Result<Record, SaveError> {
        Ok(Record {
            version,
            created_at: 0,
            expires_at: 1,
            owner: None,
            payload: self
                .records()?
                .payload(key, 0, T::VERSION, &self.empty_payload)?,
        })
    }

    /// Merges three ways: what this request `loaded` and wants to write (`outgoing`, never an
    /// earlier merge: re-applying one would carry other requests' older values over newer
    /// ones), onto the `current` record. The JSON to write and its indexed owner; `None` when
    /// the current record is of another schema or the merge is no `T`.
    pub(crate) fn merge(
        &self,
        key: &StoreKey,
        current: &Record,
        loaded: &[u8],
        outgoing: &[u8],
    ) -> Result<Option<Merged>, SaveError> {
        let records = self.records()?;
        let corrupt = |why: &str| SaveError::Store(crate::error::StoreError::Corrupt(why.into()));
        let (schema, current_raw, current_json) = records
            .open(key, current.created_at, current.payload.clone())
            .map_err(corrupt)?;
        if schema != T::VERSION {
            return Ok(None);
        }
        let merged = super::merge::reapply(&current_raw[current_json], loaded, outgoing)
            .ok_or_else(|| corrupt("not a JSON object"))?;
        // Written as `T` writes itself, so the next comparison sees no false change.
        let Ok(data) = crate::schema::decode_payload::<T>(&merged) else {
            return Ok(None);
        };
        let json = serde_json::to_vec(&data).map_err(SaveError::Serialize)?;
        Ok(Some(Merged {
            json,
            owner: records.indexed_owner(data.owner())?,
        }))
    }

    /// The empty session's JSON.
    pub(crate) fn empty(&self) -> &[u8] {
        &self.empty_payload
    }
}
