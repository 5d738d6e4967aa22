//! A request body that must keep arriving: in every window of `--body-timeout` during which the
//! guest waits for it, at least [`MIN_BYTES`] (or all that is left of it) must come. A client
//! trickling a large body a byte a second would otherwise hold a serving slot for the whole
//! request timeout, as a slow request head would without hyper's header timeout.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::time::Sleep;

/// The least a body must deliver per window: well under any real client's rate (a 2G phone
/// sends this in a tenth of a second), well over a trickle meant to hold a slot.
pub const MIN_BYTES: u64 = 1024;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body stopped making progress.
#[derive(Debug)]
pub struct Stalled {
    pub window: Duration,
}

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the client sent less than {MIN_BYTES} bytes of the request body in {:?} (--body-timeout)",
            self.window
        )
    }
}

impl std::error::Error for Stalled {}

pub struct Progressing<B> {
    inner: B,
    window: Duration,
    /// Bytes still to come, when the request declared its length.
    remaining: Option<u64>,
    /// Bytes received in the current window.
    got: u64,
    /// The current window's end; a window starts when the guest first has to wait.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> Progressing<B> {
    pub fn new(inner: B, window: Duration, declared: Option<u64>) -> Progressing<B> {
        Progressing { inner, window, remaining: declared, got: 0, timer: None }
    }

    fn needed(&self) -> u64 {
        self.remaining.map_or(MIN_BYTES, |r| r.clamp(1, MIN_BYTES))
    }
}

impl<B> Body for Progressing<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    let needed = this.needed();
                    this.got += n;
                    this.remaining = this.remaining.map(|r| r.saturating_sub(n));
                    if this.got >= needed {
                        this.got = 0;
                        this.timer = None;
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => {
                let window = this.window;
                let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(window)));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(Box::new(Stalled { window }))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use http_body_util::BodyExt;

    /// A body that sends `chunks`, each after `gap`.
    fn trickle(
        chunks: Vec<&'static [u8]>,
        gap: Duration,
    ) -> http_body_util::StreamBody<
        impl futures_util::Stream<Item = Result<Frame<Bytes>, std::convert::Infallible>> + Unpin,
    > {
        let stream = futures_util::stream::iter(chunks).then(move |c| async move {
            tokio::time::sleep(gap).await;
            Ok(Frame::data(Bytes::from_static(c)))
        });
        http_body_util::StreamBody::new(Box::pin(stream))
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_is_stopped_and_a_steady_body_is_not() {
        let slow =
            Progressing::new(trickle(vec![b"a"; 100], Duration::from_secs(1)), Duration::from_secs(3), Some(100));
        let err = slow.collect().await.unwrap_err();
        assert!(err.is::<Stalled>(), "{err}");
        let steady = Progressing::new(
            trickle(vec![&[0u8; 2048]; 10], Duration::from_secs(2)),
            Duration::from_secs(3),
            Some(20480),
        );
        assert_eq!(steady.collect().await.unwrap().to_bytes().len(), 20480);
        // A short body needs only its own length per window.
        let short = Progressing::new(trickle(vec![b"hello"], Duration::from_secs(2)), Duration::from_secs(3), Some(5));
        assert_eq!(&short.collect().await.unwrap().to_bytes()[..], b"hello");
    }
}
