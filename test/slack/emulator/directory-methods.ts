// Who is who: the bot itself (auth.test), users and user groups from the
// emulator's options. User groups need usergroups:read and a paid plan.
import { fail, requiredString, requireScope, type MethodHandler } from "./api-call.js";

const authTest: MethodHandler = (_args, { directory }) => ({
  url: "https://emulated.slack/",
  team: "Emulated",
  user: "xnode",
  team_id: directory.teamId,
  user_id: directory.botUserId,
  bot_id: directory.botId,
  is_enterprise_install: false,
});

const usersInfo: MethodHandler = (args, { directory }) => {
  const id = requiredString(args, "user", "user_not_found");
  const isBot = id === directory.botUserId;
  const known = isBot ? { name: "xnode", isAdmin: false } : (directory.users[id] ?? fail("user_not_found"));
  return {
    user: {
      id,
      team_id: directory.teamId,
      name: known.name,
      real_name: known.name,
      deleted: false,
      is_admin: known.isAdmin ?? false,
      is_owner: false,
      is_bot: isBot,
      profile: { real_name: known.name, display_name: known.name },
    },
  };
};

const usergroupsUsersList: MethodHandler = (args, { directory }) => {
  requireScope(directory, "usergroups:read");
  if (directory.plan === "free") fail("plan_upgrade_required");
  const id = requiredString(args, "usergroup", "no_such_subteam");
  return { users: directory.usergroups[id] ?? fail("no_such_subteam") };
};

export const directoryMethods: Record<string, MethodHandler> = {
  "auth.test": authTest,
  "users.info": usersInfo,
  "usergroups.users.list": usergroupsUsersList,
};
