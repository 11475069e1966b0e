import type { LeaderInfo, Participant } from "@elector/core";

/** A leader as a JSON value; the token as a decimal string, as it may exceed 2^53. */
export interface LeaderJson {
  readonly id: string;
  readonly value: string;
  readonly token: string;
}

/** A leader or participant as a JSON value. */
export function leaderJson(leader: LeaderInfo): LeaderJson {
  return { id: leader.id, value: leader.value, token: leader.token.toString() };
}

/** `worker-1 token=7 value="10.0.0.1:8080"`, or `(no leader)`. */
export function leaderText(leader: LeaderInfo | undefined): string {
  if (leader === undefined) return "(no leader)";
  return `${leader.id} token=${leader.token} value=${JSON.stringify(leader.value)}`;
}

/** One line of `elector participants`: the leader marked with `*`. */
export function participantText(participant: Participant): string {
  return `${participant.leader ? "*" : " "} ${leaderText(participant)}`;
}

/** A participant as a JSON value. */
export function participantJson(participant: Participant): LeaderJson & { leader: boolean } {
  return { ...leaderJson(participant), leader: participant.leader };
}
