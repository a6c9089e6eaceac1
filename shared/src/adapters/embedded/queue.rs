//! The in-process dispatch queue: an unbounded channel of message ids. It holds nothing the
//! store does not: after a restart the still-open messages are read from the store again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Mutex, mpsc};

use crate::domain::MessageId;
use crate::ports::{PortError, PortResult, Queue};

#[derive(Clone)]
pub struct ChannelQueue {
    tx: mpsc::UnboundedSender<MessageId>,
}

/// The consuming end, shared by the dispatcher's workers.
#[derive(Clone)]
pub struct JobReceiver {
    rx: Arc<Mutex<mpsc::UnboundedReceiver<MessageId>>>,
}

impl JobReceiver {
    /// The next job, or None once every sender is gone.
    pub async fn next(&self) -> Option<MessageId> {
        self.rx.lock().await.recv().await
    }
}

pub fn channel_queue() -> (ChannelQueue, JobReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        ChannelQueue { tx },
        JobReceiver {
            rx: Arc::new(Mutex::new(rx)),
        },
    )
}

#[async_trait]
impl Queue for ChannelQueue {
    async fn enqueue(&self, ids: &[MessageId]) -> PortResult<()> {
        for id in ids {
            self.tx
                .send(*id)
                .map_err(|_| PortError::Unavailable("dispatcher has stopped".into()))?;
        }
        Ok(())
    }

    async fn enqueue_later(&self, id: MessageId, delay: Duration) -> PortResult<()> {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // If the dispatcher stopped meanwhile, the store still has the message open and
            // the next start picks it up.
            let _ = tx.send(id);
        });
        Ok(())
    }
}
