/* policy.h - chatdesk's room policy for the MUC engine (xep0045_muc.h):
 * which rooms exist (queue@ and chat-<id>@ for each session), who may join
 * them and with which role and nick, where a message is stored (the
 * session store; the queue is live only), the group commit, the history a
 * joiner gets, and what a join or leave does to a session (a tech's first
 * join takes it, the contact leaving abandons it; both post their notices
 * through notices.h). Only techs may invite. */
#ifndef CHATDESK_CHAT_POLICY_H
#define CHATDESK_CHAT_POLICY_H

struct muc_policy;

/* The policy to give xep0045_new(); static, never freed. Its callbacks use
 * app->domain, app->history and app->chat. */
const struct muc_policy *chat_policy(void);

#endif
