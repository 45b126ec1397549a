-- A WeChat MsgId identifies a message only together with its sender: deduplicate per OpenID
-- (keyed hash), so another OpenID sending the same MsgId never gets the first one's reply.
-- A WeChat case's channel_ref is its last message's MsgId, so the same holds for cases.
-- depends: 0003_request_hashes

ALTER TABLE wechat_messages DROP CONSTRAINT wechat_messages_pkey;
ALTER TABLE wechat_messages ADD PRIMARY KEY (openid_index, msg_id);

ALTER TABLE cases DROP CONSTRAINT cases_channel_channel_ref_key;
ALTER TABLE cases ADD CONSTRAINT cases_channel_ref_key
    UNIQUE NULLS NOT DISTINCT (channel, channel_ref, wechat_openid_index);
