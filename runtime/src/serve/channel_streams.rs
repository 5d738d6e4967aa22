//! `wasi:io` streams over bounded channels: how a websocket connection's frames reach a guest and
//! its writes leave it.
//!
//! The channels are bounded on purpose: a guest that writes faster than the client reads finds
//! its output stream not ready (its blocking write waits), and a client that sends faster than the
//! guest reads stops being read (TCP pushes back). Neither side gets an error for being slow.

use bytes::Bytes;
use tokio::sync::mpsc;
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};

/// The most one guest write may carry: one frame at most this big.
pub const MAX_WRITE: usize = 64 * 1024;

/// The guest's input: chunks received from the channel, handed out in reads of any size.
pub struct ChannelInput {
    rx: mpsc::Receiver<Bytes>,
    pending: Bytes,
    closed: bool,
}

impl ChannelInput {
    pub fn new(rx: mpsc::Receiver<Bytes>) -> ChannelInput {
        ChannelInput { rx, pending: Bytes::new(), closed: false }
    }
}

#[async_trait::async_trait]
impl InputStream for ChannelInput {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        if self.pending.is_empty() {
            match self.rx.try_recv() {
                Ok(chunk) => self.pending = chunk,
                Err(mpsc::error::TryRecvError::Empty) => return Ok(Bytes::new()),
                Err(mpsc::error::TryRecvError::Disconnected) => self.closed = true,
            }
        }
        if self.pending.is_empty() && self.closed {
            return Err(StreamError::Closed);
        }
        let n = size.min(self.pending.len());
        Ok(self.pending.split_to(n))
    }
}

#[async_trait::async_trait]
impl Pollable for ChannelInput {
    async fn ready(&mut self) {
        if !self.pending.is_empty() || self.closed {
            return;
        }
        match self.rx.recv().await {
            Some(chunk) => self.pending = chunk,
            None => self.closed = true,
        }
    }
}

/// The guest's output: each write is one message on the channel. A write needs a slot in the
/// channel (`check-write` reports 0 until one is free), which is the backpressure.
pub struct ChannelOutput {
    tx: mpsc::Sender<Bytes>,
    permit: Option<mpsc::OwnedPermit<Bytes>>,
}

impl ChannelOutput {
    pub fn new(tx: mpsc::Sender<Bytes>) -> ChannelOutput {
        ChannelOutput { tx, permit: None }
    }
}

#[async_trait::async_trait]
impl OutputStream for ChannelOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if bytes.len() > MAX_WRITE {
            return Err(StreamError::trap("write larger than check-write allowed"));
        }
        match self.permit.take() {
            Some(permit) => {
                permit.send(bytes);
                Ok(())
            }
            None => Err(StreamError::trap("write without a check-write that allowed it")),
        }
    }

    fn flush(&mut self) -> StreamResult<()> {
        // Every write is already queued for the connection; the channel is the only buffer.
        if self.tx.is_closed() {
            return Err(StreamError::Closed);
        }
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        if self.permit.is_some() {
            return Ok(MAX_WRITE);
        }
        match self.tx.clone().try_reserve_owned() {
            Ok(permit) => {
                self.permit = Some(permit);
                Ok(MAX_WRITE)
            }
            Err(mpsc::error::TrySendError::Full(_)) => Ok(0),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(StreamError::Closed),
        }
    }
}

#[async_trait::async_trait]
impl Pollable for ChannelOutput {
    async fn ready(&mut self) {
        if self.permit.is_none() {
            // A closed channel is "ready": the next check-write reports it.
            self.permit = self.tx.clone().reserve_owned().await.ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_hand_out_chunks_then_report_closed() {
        let (tx, rx) = mpsc::channel(2);
        let mut input = ChannelInput::new(rx);
        assert_eq!(input.read(10).unwrap(), Bytes::new(), "nothing sent yet: an empty read, not an error");
        tx.send(Bytes::from_static(b"hello")).await.unwrap();
        input.ready().await;
        assert_eq!(input.read(3).unwrap(), Bytes::from_static(b"hel"));
        assert_eq!(input.read(10).unwrap(), Bytes::from_static(b"lo"));
        drop(tx);
        input.ready().await;
        assert!(matches!(input.read(10), Err(StreamError::Closed)));
    }

    #[tokio::test]
    async fn a_full_channel_is_backpressure_not_an_error() {
        let (tx, mut rx) = mpsc::channel(1);
        let mut output = ChannelOutput::new(tx);
        assert_eq!(output.check_write().unwrap(), MAX_WRITE);
        output.write(Bytes::from_static(b"one")).unwrap();
        assert_eq!(output.check_write().unwrap(), 0, "the channel is full until the reader takes a message");
        assert!(output.write(Bytes::from_static(b"two")).is_err(), "a write without a permit is refused");
        assert_eq!(rx.recv().await.unwrap(), Bytes::from_static(b"one"));
        output.ready().await;
        assert_eq!(output.check_write().unwrap(), MAX_WRITE);
        drop(rx);
        output.permit = None;
        assert!(matches!(output.check_write(), Err(StreamError::Closed)));
    }
}
