/* xep0092_version.h - XEP-0092 Software Version: name and version. The
 * operating system is not disclosed. */
#ifndef CHATDESK_XEP0092_VERSION_H
#define CHATDESK_XEP0092_VERSION_H

#define NS_VERSION "jabber:iq:version"

struct app;

int xep0092_register(struct app *app);

#endif
