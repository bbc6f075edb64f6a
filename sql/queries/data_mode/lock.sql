-- Writers of observations check the mode before they write; holding this lock, no check can pass
-- between the deletion of the simulated data and the switch to live.
LOCK TABLE data_mode IN ACCESS EXCLUSIVE MODE;
