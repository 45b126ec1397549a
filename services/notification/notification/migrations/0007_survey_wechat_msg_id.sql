-- The WeChat message (its MsgId, unique per sender) that answered a survey: WeChat
-- redelivers a message it got no reply to in time, and intake asks again; the same
-- message gets the same thanks, another message "already answered". Not personal data.
ALTER TABLE surveys ADD COLUMN wechat_msg_id text;
