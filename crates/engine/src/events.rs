//! The event bus: one broadcast stream of everything that changes. Publishing never waits for
//! subscribers; a subscriber that falls behind is told how many events it missed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::Utc;
use sentinel_proto::{EngineEvent, EventEnvelope};
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it starts missing some.
const BUS_CAPACITY: usize = 4096;

pub(crate) struct EventBus {
    sender: broadcast::Sender<EventEnvelope>,
    // Held while assigning a sequence number and sending, so subscribers see seq in order.
    order: Mutex<()>,
    next_seq: AtomicU64,
}

impl EventBus {
    pub fn new(first_seq: u64) -> EventBus {
        EventBus {
            sender: broadcast::channel(BUS_CAPACITY).0,
            order: Mutex::new(()),
            next_seq: AtomicU64::new(first_seq),
        }
    }

    pub fn publish(&self, event: EngineEvent) -> EventEnvelope {
        let _ordered = self.order.lock().unwrap_or_else(|p| p.into_inner());
        let envelope = EventEnvelope {
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
            at: Utc::now(),
            event,
        };
        // An error only means nobody is listening right now.
        let _ = self.sender.send(envelope.clone());
        envelope
    }

    /// The sequence number of the newest event published (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.next_seq.load(Ordering::Relaxed).saturating_sub(1)
    }

    pub fn subscribe(&self) -> EventSubscription {
        EventSubscription {
            receiver: self.sender.subscribe(),
        }
    }
}

/// What a subscriber receives next.
#[derive(Debug, Clone, PartialEq)]
// Events are the common case: boxing them would allocate per event and subscriber.
#[allow(clippy::large_enum_variant)]
pub enum Received {
    Event(EventEnvelope),
    /// The subscriber fell behind and this many events were dropped for it.
    Missed(u64),
}

pub struct EventSubscription {
    receiver: broadcast::Receiver<EventEnvelope>,
}

impl EventSubscription {
    /// The next event, or `None` once the engine is gone.
    pub async fn recv(&mut self) -> Option<Received> {
        match self.receiver.recv().await {
            Ok(envelope) => Some(Received::Event(envelope)),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Received::Missed(missed)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Option<Received> {
        match self.receiver.try_recv() {
            Ok(envelope) => Some(Received::Event(envelope)),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => Some(Received::Missed(missed)),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(n: usize) -> EngineEvent {
        EngineEvent::JobRemoved {
            job: format!("job{n}"),
        }
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_told_how_many_it_missed() {
        let bus = EventBus::new(1);
        let mut slow = bus.subscribe();
        for n in 0..BUS_CAPACITY + 10 {
            bus.publish(added(n));
        }
        assert_eq!(slow.recv().await, Some(Received::Missed(10)));
        match slow.recv().await {
            Some(Received::Event(envelope)) => assert_eq!(envelope.seq, 11),
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn sequence_numbers_increase_by_one() {
        let bus = EventBus::new(7);
        let mut sub = bus.subscribe();
        bus.publish(added(0));
        bus.publish(added(1));
        let seqs: Vec<u64> = [sub.recv().await, sub.recv().await]
            .into_iter()
            .map(|r| match r {
                Some(Received::Event(e)) => e.seq,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(seqs, vec![7, 8]);
    }
}
