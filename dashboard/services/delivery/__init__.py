"""Delivery of the notification outbox (issue 22): the channels (SMTP e-mail, the WeCom / DingTalk
group robot, the 我的消息 page), quiet hours and digests, the drain the send_notifications job runs,
each person's choice of channel, and HQ admin's view of failed deliveries."""
