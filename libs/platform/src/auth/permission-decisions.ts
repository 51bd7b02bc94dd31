import { subject as asSubject } from '@casl/ability';
import type { Action, AppAbility, SubjectKind } from './ability';

/** The resource fields the kit's role rules are conditioned on (see abilityFor). */
const RULE_FIELDS = new Set(['projectId', 'orgId']);
/** Most decisions kept per ability: a caller naming ever more projects must not grow the process without end. */
const MAX_DECISIONS = 1024;

/** Decisions of one ability, by action, kind and project; null when its rules read other fields, so that each check asks CASL. */
interface Decisions {
  byAction: Map<Action, Map<SubjectKind, Map<string, boolean>>>;
  size: number;
}

const decisionsOf = new WeakMap<AppAbility, Decisions | null>();

/**
 * Whether `ability` lets its holder do `action` to a `kind` resource with `fields`. CASL matches
 * the rules' conditions on every check, which costs more than the rest of a call's guard, so the
 * answer for an action, kind and project is remembered per ability, for resources that name no
 * org (those are always checked). Only an ability whose rules read nothing but `projectId` and
 * `orgId` is remembered (an update of its rules starts afresh); any other is asked every time.
 */
export function allows(ability: AppAbility, action: Action, kind: SubjectKind, fields: { projectId: string; orgId?: string }): boolean {
  const decisions = fields.orgId === undefined ? decisionsFor(ability) : null;
  if (!decisions) return ability.can(action, asSubject(kind, { ...fields }) as never);
  let byKind = decisions.byAction.get(action);
  if (!byKind) decisions.byAction.set(action, (byKind = new Map()));
  let byProject = byKind.get(kind);
  if (!byProject) byKind.set(kind, (byProject = new Map()));
  let allowed = byProject.get(fields.projectId);
  if (allowed === undefined) {
    allowed = ability.can(action, asSubject(kind, { ...fields }) as never);
    if (decisions.size >= MAX_DECISIONS) {
      decisions.byAction.clear();
      decisions.size = 0;
      return allowed;
    }
    byProject.set(fields.projectId, allowed);
    decisions.size++;
  }
  return allowed;
}

function decisionsFor(ability: AppAbility): Decisions | null {
  let decisions = decisionsOf.get(ability);
  if (decisions === undefined) {
    decisions = freshDecisions(ability);
    decisionsOf.set(ability, decisions);
    ability.on('updated', () => decisionsOf.set(ability, freshDecisions(ability)));
  }
  return decisions;
}

function freshDecisions(ability: AppAbility): Decisions | null {
  const readsOnlyRuleFields = ability.rules.every((rule) => !rule.conditions || Object.keys(rule.conditions).every((field) => RULE_FIELDS.has(field)));
  return readsOnlyRuleFields ? { byAction: new Map(), size: 0 } : null;
}
