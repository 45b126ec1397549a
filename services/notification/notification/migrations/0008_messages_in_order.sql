-- Messages to one recipient on one channel leave in the order they were recorded (issue 15:
-- "the expected messages, in order"). A case's acceptance and its routing are recorded by
-- two consumers, or by one transaction when the decision waited for its case; with two
-- senders per channel and `due_at` the transaction's start, the routing could overtake the
-- acceptance. `seq` numbers the rows in insert order (a transaction's rows in the order it
-- lists them); the sender claims a message only when no earlier one of the same recipient
-- and channel is still pending (in flight, deferred or retrying).
ALTER TABLE messages ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX messages_pending_by_recipient ON messages (recipient_ref, channel, seq)
    WHERE status = 'pending';
