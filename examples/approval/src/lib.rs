//! An approval workflow, the most common use of durable agents: an
//! `Approval` asks an `Approver` to decide on a purchase and waits for the
//! decision, at most a few days. The approver (a person, behind whatever
//! API calls the agent) decides later, which completes the approval's
//! promise.
//!
//! While it waits, Golem suspends the approval: it costs nothing, survives
//! restarts of the executor, and carries on where it stopped once the
//! decision comes or the days have passed. A reminder is scheduled for the
//! approver a day later, and cancelled if the decision comes first.
//!
//! A `Buyer` starts one approval per purchase, each a phantom agent: two
//! purchases of the same thing are two approvals.

use std::time::{Duration, SystemTime};

use reprise::promise::{self, Promise, PromiseId};

/// One day.
const DAY: Duration = Duration::from_secs(24 * 3600);

/// A purchase that needs someone's approval.
#[derive(Debug)]
pub struct Approval {
    purchase: String,
    status: String,
}

/// A purchase waiting for, or given, an approver's decision.
#[reprise::agent]
impl Approval {
    /// The approval of `purchase`, not requested yet.
    pub fn new(purchase: String) -> Self {
        Approval { purchase, status: "draft".to_string() }
    }

    /// Ask `approver` to decide on `amount`, then wait for the decision at
    /// most `days` days. Returns the outcome: `approved`, `rejected` or
    /// `timed out`.
    pub fn request(&mut self, approver: String, amount: u64, days: u32) -> Result<String, String> {
        if self.status != "draft" {
            return Err(format!("the approval of {} was requested already ({})", self.purchase, self.status));
        }
        let decision = Promise::create();
        let approver = ApproverClient::connect(approver);
        approver.trigger_review(self.purchase.clone(), amount, decision.id()).map_err(|e| e.to_string())?;
        let reminder = approver.schedule_cancelable_remind(SystemTime::now() + DAY, self.purchase.clone());
        self.status = "waiting".to_string();
        self.status = match decision.wait_for(DAY * days) {
            Some(answer) => String::from_utf8_lossy(&answer).into_owned(),
            None => "timed out".to_string(),
        };
        // Decided within the day: no reminder (after it, this does nothing).
        reminder.cancel();
        Ok(self.status.clone())
    }

    /// `draft`, `waiting`, `approved`, `rejected` or `timed out`.
    pub fn status(&self) -> String {
        self.status.clone()
    }
}

/// A purchase an approver is asked to decide on.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct Request {
    /// What is bought.
    pub purchase: String,
    /// Its price, in cents.
    pub amount: u64,
}

/// A person who approves purchases.
#[derive(Debug)]
pub struct Approver {
    name: String,
    waiting: Vec<(Request, PromiseId)>,
    reminders: Vec<String>,
}

/// The requests waiting for one approver, and their decisions.
#[reprise::agent]
impl Approver {
    /// The approver `name`.
    pub fn new(name: String) -> Self {
        Approver { name, waiting: Vec::new(), reminders: Vec::new() }
    }

    /// Take a request up: the approval waits on `decision` (called by the
    /// approval).
    pub fn review(&mut self, purchase: String, amount: u64, decision: PromiseId) {
        self.waiting.push((Request { purchase, amount }, decision));
    }

    /// Remind the approver of `purchase` if it still waits for a decision
    /// (scheduled by the approval, a day after its request).
    pub fn remind(&mut self, purchase: String) {
        if self.waiting.iter().any(|(request, _)| request.purchase == purchase) {
            self.reminders.push(purchase);
        }
    }

    /// The purchases the approver was reminded of, in order.
    pub fn reminders(&self) -> Vec<String> {
        self.reminders.clone()
    }

    /// The requests waiting for a decision, oldest first.
    pub fn pending(&self) -> Vec<Request> {
        self.waiting.iter().map(|(request, _)| request.clone()).collect()
    }

    /// Approve or reject `purchase`: the approval waiting for it goes on
    /// (one that timed out ignores it).
    pub fn decide(&mut self, purchase: String, approve: bool) -> Result<(), String> {
        let Some(at) = self.waiting.iter().position(|(request, _)| request.purchase == purchase) else {
            return Err(format!("no purchase {purchase} waits for {}", self.name));
        };
        let (_, decision) = self.waiting.remove(at);
        // `complete` tells whether this call completed the promise, but Golem
        // journals it as a local write: a crash right after it runs it again,
        // and the retry hears `false`. The first decision stands either way.
        promise::complete(&decision, if approve { b"approved" } else { b"rejected" });
        Ok(())
    }
}

/// Someone who buys things, each purchase approved by its own approval.
#[derive(Debug)]
pub struct Buyer {
    name: String,
    approvals: Vec<String>,
}

#[reprise::agent]
impl Buyer {
    /// The buyer `name`.
    pub fn new(name: String) -> Self {
        Buyer { name, approvals: Vec::new() }
    }

    /// Start the approval of `purchase` by `approver`, waiting at most
    /// `days` days, on a new phantom `Approval`: returns its agent id.
    pub fn buy(&mut self, purchase: String, amount: u64, approver: String, days: u32) -> Result<String, String> {
        let approval = ApprovalClient::connect_new_phantom(purchase);
        let failed = |e: reprise::rpc::RpcError| format!("{} buying: {e}", self.name);
        let id = approval.remote().agent_id().map_err(failed)?;
        approval.trigger_request(approver, amount, days).map_err(failed)?;
        self.approvals.push(id.clone());
        Ok(id)
    }

    /// The approvals started, oldest first.
    pub fn approvals(&self) -> Vec<String> {
        self.approvals.clone()
    }
}

reprise::export_agents!(Approval, Approver, Buyer);
