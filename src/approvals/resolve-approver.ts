// Whether a clicker is an approver: listed by user id, or a member of a listed
// user group. A group that could not be read is a problem to say, never a
// silent "not an approver" (a missing scope would read as a refusal).
import { errorParts } from "../errors.js";
import type { ApprovalPolicy, Clicker } from "./approval-policy.js";

export async function resolveApprover(
  policy: ApprovalPolicy,
  user: string,
  members: (groupId: string) => Promise<string[]>,
): Promise<Pick<Clicker, "isApprover" | "lookupProblem">> {
  if (policy.users.includes(user)) return { isApprover: true };
  const problems = new Set<string>();
  for (const group of policy.usergroups) {
    try {
      if ((await members(group)).includes(user)) return { isApprover: true };
    } catch (err) {
      const { message, hint } = errorParts(err, "try again in a minute");
      problems.add(`${message}: ${hint}`);
    }
  }
  return problems.size > 0 ? { isApprover: false, lookupProblem: [...problems].join("; ") } : { isApprover: false };
}
