//! The fault schedule: every fault once in a seeded order, then seeded random picks until the
//! wall time is spent. The same seed gives the same sequence of steps.

use eventkeeper_sim::ids::Rng;

/// One step of the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// `kill -9` of the leader, restarted at once with the same identity (a container restart).
    KillLeader,
    /// `kill -9` of a standby, restarted at once.
    KillStandby,
    /// SIGTERM of the leader (flush, checkpoint, release), then restarted.
    TermLeader,
    /// SIGTERM of a standby, then restarted.
    TermStandby,
    /// Every watch ends after 300 events, for a step.
    WatchCuts,
    /// The next 5 requests get 429 with `Retry-After: 1`.
    Throttle,
    /// The next 6 requests get 500.
    ServerErrors,
    /// 200 ms added to every request, for a step.
    Latency,
    /// The API answers nothing for about a second (shorter than the renew deadline).
    Pause,
    /// Another writer bumps the Lease: the holder's next renewal gets 409.
    LeaseConflict,
    /// The API is paused until more changes were written than the watch history holds: the
    /// leader steps down, and whoever leads next gets a real 410 and relists.
    FallBehind,
    /// A scheduled catch-up run while the emitters run: archive to S3, backfill decides the
    /// emitter is alive.
    CatchUp,
    /// A catch-up run whose list is slow enough (latency, small pages) for its continue token
    /// to expire.
    CatchUpSlowList,
    /// Every replica killed -9, a catch-up run backfills CloudWatch, then the replicas restart.
    CatchUpAllDown,
}

impl Fault {
    /// Every fault, in declaration order.
    pub const ALL: [Fault; 14] = [
        Fault::KillLeader,
        Fault::KillStandby,
        Fault::TermLeader,
        Fault::TermStandby,
        Fault::WatchCuts,
        Fault::Throttle,
        Fault::ServerErrors,
        Fault::Latency,
        Fault::Pause,
        Fault::LeaseConflict,
        Fault::FallBehind,
        Fault::CatchUp,
        Fault::CatchUpSlowList,
        Fault::CatchUpAllDown,
    ];

    /// How often a random pick chooses this fault, relative to the others: the cheap API faults
    /// and kills often, the slow catch-up variants rarely.
    fn weight(self) -> u64 {
        match self {
            Fault::FallBehind | Fault::CatchUpSlowList | Fault::CatchUpAllDown => 1,
            Fault::CatchUp => 2,
            _ => 4,
        }
    }
}

/// The steps: first every fault once (shuffled), then weighted random picks.
pub struct Schedule {
    rng: Rng,
    first_pass: Vec<Fault>,
}

impl Schedule {
    /// A schedule for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::seeded(seed);
        let mut first_pass = Fault::ALL.to_vec();
        for i in (1..first_pass.len()).rev() {
            let j = rng.below(i + 1);
            first_pass.swap(i, j);
        }
        first_pass.reverse();
        Self { rng, first_pass }
    }

    /// Whether every fault has been handed out at least once.
    pub fn first_pass_done(&self) -> bool {
        self.first_pass.is_empty()
    }

    /// The next step.
    pub fn next_fault(&mut self) -> Fault {
        if let Some(fault) = self.first_pass.pop() {
            return fault;
        }
        let total: u64 = Fault::ALL.iter().map(|f| f.weight()).sum();
        let mut pick = self.rng.below(total as usize) as u64;
        for fault in Fault::ALL {
            if pick < fault.weight() {
                return fault;
            }
            pick -= fault.weight();
        }
        unreachable!("the pick is below the total weight")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_comes_first_once_and_the_same_seed_repeats_the_schedule() {
        let take = |seed| {
            let mut s = Schedule::new(seed);
            (0..40).map(|_| s.next_fault()).collect::<Vec<_>>()
        };
        let a = take(7);
        let mut first: Vec<Fault> = a[..Fault::ALL.len()].to_vec();
        first.sort();
        assert_eq!(first, Fault::ALL.to_vec());
        assert_eq!(a, take(7));
        assert_ne!(a, take(8));
    }
}
