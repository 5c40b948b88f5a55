//! An ordered, bounded parallel map: items are taken in order by worker threads, and
//! their results are handed to the caller's thread in the same order as soon as every
//! earlier item is done. At most `window` results wait for an earlier one; a worker that
//! would run further ahead waits, so memory is bounded by the window, not by the number
//! of items (what ripgrep's `--sort path` gives up parallelism for, kept here).
//!
//! The workers are scoped threads of their own, not the rayon pool: the caller's thread
//! consumes while they work, and it may itself be a rayon worker (the fix engine's
//! re-check), where waiting on rayon tasks could deadlock a one-thread pool.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, PoisonError};

/// Results that may wait for an earlier item, per worker thread (a worker holds at most
/// one item in progress; a slow item lets the others run this far ahead of it).
pub const WINDOW_PER_THREAD: usize = 64;

struct State<I, R> {
    items: I,
    /// The index of the next item to hand to a worker.
    next_in: usize,
    /// The index of the next result the consumer takes.
    next_out: usize,
    ready: BTreeMap<usize, R>,
    /// No item is left to hand out.
    exhausted: bool,
    /// Workers still running.
    running: usize,
    /// Workers waiting for room in the window, and whether the consumer waits for the
    /// next result: a notification goes only to someone waiting, because every notify
    /// is a futex system call (two per file doubled the system time of a run).
    room_waiters: usize,
    consumer_waits: bool,
}

/// Map `work` over `items` on `threads` workers and give each result, in item order, to
/// `consume` on the calling thread. Never more than `window` results are finished and
/// waiting (at least one per thread is allowed). A panic in `work` is not caught here:
/// it ends that worker and is raised again when the scope ends (the checker catches
/// panics per file itself).
pub fn map<T, R, I, W, C>(items: I, threads: usize, window: usize, work: W, mut consume: C)
where
    I: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
    W: Fn(T) -> R + Sync,
    C: FnMut(R),
{
    let threads = threads.max(1);
    let window = window.max(threads);
    // The consumer is woken for half a window of finished results, not for each one (a
    // wake-up per file is a futex call each side). It cannot sleep forever: when every
    // worker waits for room, all `window` results are finished; a worker that ends wakes
    // it unconditionally.
    let wake_at = (window / 2).max(1);
    let state = Mutex::new(State {
        items,
        next_in: 0,
        next_out: 0,
        ready: BTreeMap::new(),
        exhausted: false,
        running: threads,
        room_waiters: 0,
        consumer_waits: false,
    });
    // Workers wait on `room` for the window to move; the consumer waits on `done`.
    let room = Condvar::new();
    let done = Condvar::new();
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                // Counts the worker out however it ends (a panic in `work` included), so
                // that the consumer never waits for a worker that is gone.
                struct Out<'a, I, R> {
                    state: &'a Mutex<State<I, R>>,
                    done: &'a Condvar,
                    room: &'a Condvar,
                }
                impl<I, R> Drop for Out<'_, I, R> {
                    fn drop(&mut self) {
                        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                        s.running -= 1;
                        if std::thread::panicking() {
                            // Nothing after the lost item can be emitted in order.
                            s.exhausted = true;
                        }
                        self.done.notify_all();
                        self.room.notify_all();
                    }
                }
                let _out = Out {
                    state: &state,
                    done: &done,
                    room: &room,
                };
                loop {
                    let (index, item) = {
                        let mut s = lock();
                        loop {
                            if s.exhausted {
                                return;
                            }
                            if s.next_in < s.next_out + window {
                                break;
                            }
                            s.room_waiters += 1;
                            s = room.wait(s).unwrap_or_else(PoisonError::into_inner);
                            s.room_waiters -= 1;
                        }
                        match s.items.next() {
                            Some(item) => {
                                let index = s.next_in;
                                s.next_in += 1;
                                (index, item)
                            }
                            None => {
                                s.exhausted = true;
                                return;
                            }
                        }
                    };
                    let result = work(item);
                    let mut s = lock();
                    s.ready.insert(index, result);
                    if s.consumer_waits
                        && s.ready.len() >= wake_at
                        && s.ready.contains_key(&s.next_out)
                    {
                        done.notify_all();
                    }
                }
            });
        }
        loop {
            let result = {
                let mut s = lock();
                loop {
                    let next = s.next_out;
                    if let Some(result) = s.ready.remove(&next) {
                        s.next_out += 1;
                        if s.room_waiters > 0 {
                            room.notify_all();
                        }
                        break Some(result);
                    }
                    if s.running == 0 {
                        break None;
                    }
                    s.consumer_waits = true;
                    s = done.wait(s).unwrap_or_else(PoisonError::into_inner);
                    s.consumer_waits = false;
                }
            };
            match result {
                // Outside the lock: the consumer may write output while workers go on.
                Some(result) => consume(result),
                None => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_come_in_item_order_whatever_the_thread_count() {
        for threads in [1, 2, 3, 8] {
            let mut out = Vec::new();
            map(
                0..500u64,
                threads,
                4,
                |i| {
                    // Uneven work, so that later items often finish first.
                    if i % 7 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    i * 2
                },
                |r| out.push(r),
            );
            assert_eq!(
                out,
                (0..500).map(|i| i * 2).collect::<Vec<_>>(),
                "{threads}"
            );
        }
    }

    /// The consumer sleeps until half a window is finished: fewer results than that
    /// (a slow source, one slow item holding back the rest, the last few items) must
    /// still all arrive, in order, for every window and thread count.
    #[test]
    fn fewer_results_than_the_wake_up_mark_still_arrive() {
        for threads in [1, 2, 3, 8] {
            for window in [1, 2, 5, 64] {
                for len in [0u64, 1, 3, 7, 130] {
                    let slow_source = (0..len).inspect(|i| {
                        if i % 5 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(300));
                        }
                    });
                    let mut out = Vec::new();
                    map(
                        slow_source,
                        threads,
                        window,
                        |i| {
                            if i == 1 {
                                std::thread::sleep(std::time::Duration::from_millis(2));
                            }
                            i + 1
                        },
                        |r| out.push(r),
                    );
                    assert_eq!(
                        out,
                        (1..=len).collect::<Vec<_>>(),
                        "threads {threads}, window {window}, {len} items"
                    );
                }
            }
        }
    }

    #[test]
    fn no_worker_runs_further_ahead_than_the_window() {
        let window = 8;
        let consumed = AtomicUsize::new(0);
        let ahead = AtomicUsize::new(0);
        map(
            0..2000usize,
            4,
            window,
            |i| {
                // Taken only when fewer than `window` results wait for the consumer.
                let behind = consumed.load(Ordering::SeqCst);
                ahead.fetch_max(i.saturating_sub(behind), Ordering::SeqCst);
                i
            },
            |i| {
                if i % 100 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                consumed.store(i + 1, Ordering::SeqCst);
            },
        );
        assert!(ahead.into_inner() <= window, "ran ahead of the window");
    }

    #[test]
    fn the_first_result_is_consumed_before_the_last_item_is_taken() {
        let taken = AtomicUsize::new(0);
        let mut first_seen_at = None;
        map(
            0..1000usize,
            2,
            4,
            |i| {
                taken.fetch_max(i + 1, Ordering::SeqCst);
                i
            },
            |i| {
                if i == 0 {
                    first_seen_at = Some(taken.load(Ordering::SeqCst));
                }
            },
        );
        assert!(first_seen_at.is_some_and(|n| n <= 8), "{first_seen_at:?}");
    }

    #[test]
    fn an_empty_input_consumes_nothing() {
        let mut n = 0;
        map(std::iter::empty::<u8>(), 3, 2, |i| i, |_| n += 1);
        assert_eq!(n, 0);
    }
}
