// Every page's catalogue, by namespace (the page's name). A page adds its
// own file here and uses useTranslation("<namespace>").
import * as mailServer from "./mailServer";
import * as tenants from "./tenants";
import * as mailboxes from "./mailboxes";
import * as users from "./users";
import * as compose from "./compose";
import * as messages from "./messages";
import * as audit from "./audit";

export const namespaces = { mailServer, tenants, mailboxes, users, compose, messages, audit };
