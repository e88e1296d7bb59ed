//! Replay of a resumed subscription. `resume_point` decides where a `subscribe` with
//! `since` starts: right after its cursor when the log still holds everything since, else
//! `reset` (the client refetches). `run` then sends the logged events the subscription
//! missed, read from the log page by page and queued on its connection, and switches it to
//! live: the live frames buffered meanwhile follow (the hub's `go_live`). Why the replayed
//! and the live ranges meet with no gap and no duplicate is the ordering argument in
//! [`super::hub`].
//!
//! It reads the log and waits on one connection's queue. It keeps no state and never
//! touches the hub's registry but through the hub's calls.

use super::cursor::Cursor;
use super::hub::{ConnId, Hub, Outbound};
use super::queue::QueueTx;
use crate::store::log;
use std::sync::Arc;

/// Events read from the log per query.
const LOG_PAGE: i64 = 500;

/// Where a new subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resume {
    /// Live from the hub's head on: nothing to replay.
    Live,
    /// Replay the logged events after this `seq` (up to the head), then live.
    Replay { after: i64 },
    /// Live from the head, after a `reset` with this reason (the cursor cannot be served).
    Reset(&'static str),
}

/// Where a subscribe with cursor `since` resumes, on a channel that is `durable` (logged)
/// or not, given this log's id, the highest trimmed `seq` and the hub's `head`.
pub(super) fn resume_point(
    since: Option<&str>,
    durable: bool,
    log_id: &str,
    trimmed_upto: i64,
    head: i64,
) -> Resume {
    let Some(since) = since.filter(|_| durable) else {
        return Resume::Live;
    };
    match Cursor::decode(since, log_id) {
        Some(Cursor(s)) if s >= trimmed_upto && s <= head => match s < head {
            true => Resume::Replay { after: s },
            false => Resume::Live,
        },
        Some(Cursor(s)) if s > head => Resume::Reset("cursor is ahead of this log"),
        Some(_) => Resume::Reset("cursor is older than the retained log"),
        None => Resume::Reset("cursor is not from this log"),
    }
}

/// A registered subscription waiting for its replay: the events on `channel` with
/// `after < seq <= upto` go to `tx`, the connection's queue.
pub(super) struct Replay {
    pub conn: ConnId,
    pub sub: Arc<str>,
    pub channel: String,
    pub after: i64,
    pub upto: i64,
    pub tx: QueueTx,
}

/// Replays, then switches the subscription to live; if the log cannot be read, the client
/// gets `reset` (refetch) and the subscription goes live all the same. A client that stops
/// reading during the replay is cut off, as one that stops reading live is.
pub(super) async fn run(hub: &Hub, replay: Replay) {
    match send_missed(hub, &replay).await {
        Ok(Sent::All | Sent::Gone) => {}
        Ok(Sent::Stalled) => hub.cut_off(replay.conn),
        Err(e) => {
            tracing::error!(error = %e, "replay failed");
            hub.go_live(replay.conn, &replay.sub, Some("replay failed; refetch"));
        }
    }
}

/// How a replay ended (other than failing to read the log).
enum Sent {
    /// Everything was queued and the subscription is live.
    All,
    /// The subscription or the connection went away meanwhile.
    Gone,
    /// The client stopped reading: no room in its queue for a whole heartbeat.
    Stalled,
}

async fn send_missed(hub: &Hub, replay: &Replay) -> Result<Sent, sqlx::Error> {
    let pool = hub.store().pool();
    let mut after = replay.after;
    loop {
        let page = log::read_range(pool, &replay.channel, after, replay.upto, LOG_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        let Some(frames) = hub.replay_frames(replay.conn, &replay.sub, &page) else {
            return Ok(Sent::Gone); // unsubscribed or disconnected meanwhile
        };
        // A reader drains its queue in milliseconds; one that has not made room within a
        // heartbeat has stopped reading.
        let patience = hub.config().heartbeat;
        for frame in frames {
            if replay
                .tx
                .send_within(Outbound::Text(frame), patience)
                .await
                .is_err()
            {
                return Ok(Sent::Stalled);
            }
        }
    }
    // Retention may have trimmed under our feet: then the replay had a hole.
    let trimmed = log::trimmed_upto(pool).await?;
    let hole = trimmed > replay.after;
    hub.go_live(
        replay.conn,
        &replay.sub,
        hole.then_some("the log was trimmed during replay"),
    );
    Ok(Sent::All)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_points() {
        let at = |since: Option<&str>, durable| resume_point(since, durable, "L", 3, 10);
        assert_eq!(at(None, true), Resume::Live);
        assert_eq!(at(Some("L-4"), false), Resume::Live, "ephemeral: no log");
        assert_eq!(at(Some("L-4"), true), Resume::Replay { after: 4 });
        assert_eq!(at(Some("L-3"), true), Resume::Replay { after: 3 });
        assert_eq!(at(Some("L-10"), true), Resume::Live, "nothing missed");
        assert_eq!(
            at(Some("L-11"), true),
            Resume::Reset("cursor is ahead of this log")
        );
        assert_eq!(
            at(Some("L-2"), true),
            Resume::Reset("cursor is older than the retained log")
        );
        assert_eq!(
            at(Some("M-4"), true),
            Resume::Reset("cursor is not from this log")
        );
        assert_eq!(
            at(Some("garbage"), true),
            Resume::Reset("cursor is not from this log")
        );
    }
}
