//! An ordered, bounded parallel map: items are taken in order by worker threads, and
//! their results are handed to the caller's closure in the same order as soon as every
//! earlier item is done. At most `window` results wait for an earlier one; a worker that
//! would run further ahead waits, so memory is bounded by the window, not by the number
//! of items (what ripgrep's `--sort path` gives up parallelism for, kept here).
//!
//! The caller's thread is one of the workers and the only consumer: between two items of
//! its own it hands every result that is next in order to `consume`. There is no thread
//! that only waits for results: on a machine with as many cores as workers, a consumer
//! thread of its own took a core's share from the workers, and every hand-over to it was
//! a wake-up (the streaming's first layout, two workers and a consumer on two cores, cost
//! a fifth of the wall time and a quarter of the CPU time of a run). A worker wakes the
//! caller only when it waits, which it does only when it has nothing else to do (the
//! window is full, or no item is left) and the result it waits for comes in.
//!
//! The other workers are scoped threads of their own, not the rayon pool: the caller's
//! thread may itself be a rayon worker (the fix engine's re-check), where waiting on
//! rayon tasks could deadlock a one-thread pool.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

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
    /// No item is left to hand out (or a worker panicked: nothing more is taken).
    exhausted: bool,
    /// A worker panicked with an item in hand: the results after it cannot come in order.
    lost: bool,
    /// Workers waiting for room in the window, and whether the caller waits for the
    /// next result: a notification goes only to someone waiting, because every notify
    /// is a futex system call (two per file doubled the system time of a run).
    room_waiters: usize,
    caller_waits: bool,
}

struct Shared<I, R> {
    state: Mutex<State<I, R>>,
    /// Workers wait here for the window to move.
    room: Condvar,
    /// The caller waits here for the next result.
    done: Condvar,
    window: usize,
}

impl<I: Iterator, R> Shared<I, R> {
    fn lock(&self) -> MutexGuard<'_, State<I, R>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next item and its index, if the window has room; `None` when none is left.
    /// Called with the lock held; ending the items wakes every worker waiting for room.
    fn take(&self, s: &mut State<I, R>) -> Option<(usize, I::Item)> {
        if s.exhausted {
            return None;
        }
        match s.items.next() {
            Some(item) => {
                let index = s.next_in;
                s.next_in += 1;
                Some((index, item))
            }
            None => {
                s.exhausted = true;
                if s.room_waiters > 0 {
                    self.room.notify_all();
                }
                None
            }
        }
    }

    /// Stop handing out items after a panic, and wake everyone so that no thread waits
    /// for a result that will not come.
    fn abandon(&self) {
        let mut s = self.lock();
        s.exhausted = true;
        s.lost = true;
        self.done.notify_all();
        self.room.notify_all();
    }
}

/// Calls [`Shared::abandon`] if the thread unwinds while it lives.
struct OnPanic<'a, I: Iterator, R>(&'a Shared<I, R>);

impl<I: Iterator, R> Drop for OnPanic<'_, I, R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abandon();
        }
    }
}

/// Map `work` over `items` on `threads` workers (the calling thread and `threads - 1`
/// scoped threads) and give each result, in item order, to `consume` on the calling
/// thread. Never more than `window` results are finished and waiting (at least one per
/// thread is allowed). A panic in `work` or `consume` is not caught here: nothing more is
/// handed out, and it is raised again when every worker has stopped (the checker catches
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
    let shared = Shared {
        state: Mutex::new(State {
            items,
            next_in: 0,
            next_out: 0,
            ready: BTreeMap::new(),
            exhausted: false,
            lost: false,
            room_waiters: 0,
            caller_waits: false,
        }),
        room: Condvar::new(),
        done: Condvar::new(),
        window: window.max(threads),
    };
    let shared = &shared;
    let work = &work;
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(move || {
                let _guard = OnPanic(shared);
                // One lock per item: a result goes in and the next item comes out in the
                // same hold (each hold is a chance to meet the other threads at the lock).
                let mut s = shared.lock();
                loop {
                    while !s.exhausted && s.next_in >= s.next_out + shared.window {
                        s.room_waiters += 1;
                        s = shared.room.wait(s).unwrap_or_else(PoisonError::into_inner);
                        s.room_waiters -= 1;
                    }
                    let Some((index, item)) = shared.take(&mut s) else {
                        return;
                    };
                    drop(s);
                    let result = work(item);
                    s = shared.lock();
                    if s.caller_waits && index == s.next_out {
                        shared.done.notify_one();
                    }
                    s.ready.insert(index, result);
                }
            });
        }
        // The caller: take every result that is next in order and an item to work on in
        // one hold of the lock, then consume those results and work on the item outside
        // it. The results taken stay in the window until they are consumed (released at
        // the next hold), so that at most `window` results are ever held.
        let _guard = OnPanic(shared);
        let mut taken: Vec<R> = Vec::new();
        let mut consumed = 0;
        let mut s = shared.lock();
        loop {
            if consumed > 0 {
                s.next_out += consumed;
                consumed = 0;
                if s.room_waiters > 0 {
                    shared.room.notify_all();
                }
            }
            let mut next = s.next_out;
            while let Some(result) = s.ready.remove(&next) {
                taken.push(result);
                next += 1;
            }
            let item = if s.lost || s.next_in >= s.next_out + shared.window {
                None
            } else {
                shared.take(&mut s)
            };
            if taken.is_empty() && item.is_none() {
                if s.lost || (s.exhausted && s.next_out == s.next_in) {
                    // Done; or a worker panicked with the next item, and its panic is
                    // raised at the end of the scope.
                    break;
                }
                s.caller_waits = true;
                s = shared.done.wait(s).unwrap_or_else(PoisonError::into_inner);
                s.caller_waits = false;
                continue;
            }
            drop(s);
            for result in taken.drain(..) {
                consume(result);
                consumed += 1;
            }
            let result = item.map(|(index, item)| (index, work(item)));
            s = shared.lock();
            if let Some((index, result)) = result {
                s.ready.insert(index, result);
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

    /// A slow source, one slow item holding back the rest, the last few items, fewer
    /// results than a window: all still arrive, in order, for every window and thread
    /// count (the caller waits only for the next result, and is woken for it).
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
    fn results_are_consumed_on_the_calling_thread() {
        let caller = std::thread::current().id();
        for threads in [1, 2, 4] {
            let mut n = 0;
            map(
                0..300u32,
                threads,
                8,
                |i| i,
                |_| {
                    assert_eq!(std::thread::current().id(), caller);
                    n += 1;
                },
            );
            assert_eq!(n, 300);
        }
    }

    /// One thread is the calling thread: nothing is spawned to wait on.
    #[test]
    fn one_thread_works_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let mut out = Vec::new();
        map(
            0..50u32,
            1,
            4,
            |i| {
                assert_eq!(std::thread::current().id(), caller);
                i
            },
            |i| out.push(i),
        );
        assert_eq!(out, (0..50).collect::<Vec<_>>());
    }

    /// A panic in `work` (on the calling thread or another) or in `consume` is raised to
    /// the caller and nothing waits forever; what was consumed before it is in order.
    #[test]
    fn a_panic_anywhere_is_raised_and_nothing_hangs() {
        for threads in [1, 2, 4] {
            for bad in [0u32, 1, 7, 199] {
                let mut out = Vec::new();
                let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    map(
                        0..200u32,
                        threads,
                        4,
                        |i| {
                            assert_ne!(i, bad, "a bug in the work");
                            i
                        },
                        |i| out.push(i),
                    )
                }));
                assert!(raised.is_err(), "threads {threads}, item {bad}");
                assert!(out.len() <= bad as usize, "consumed past the lost item");
                assert_eq!(out, (0..out.len() as u32).collect::<Vec<_>>());
                let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    map(
                        0..200u32,
                        threads,
                        4,
                        |i| i,
                        |i| assert_ne!(i, bad, "a bug in the consumer"),
                    )
                }));
                assert!(raised.is_err(), "threads {threads}, result {bad}");
            }
        }
    }

    #[test]
    fn an_empty_input_consumes_nothing() {
        let mut n = 0;
        map(std::iter::empty::<u8>(), 3, 2, |i| i, |_| n += 1);
        assert_eq!(n, 0);
    }
}
