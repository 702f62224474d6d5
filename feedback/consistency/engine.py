"""The consistency engine: read every answer sentence for evidence about each catalog topic, then compare the
evidence with the checklist (contradicted / unsupported items) and answers with each other (internal).

The rules, per topic of an item (an item is done only when all its topics are):

- ticked, contradicted: some sentence denies the topic and none claims it; or the topic's own yes/no question is
  answered "no" (it opens with "No" / "We did not ...", or ends on "However, we were unsuccessful ..."); or, after
  such an opening, the answer only says what the group *would* do;
- ticked, unsupported: the question that asks about the topic is answered, yet no sentence anywhere names it except
  as a possibility (for the "extra" topics no question asks about: a complete report that never names it);
- unticked, contradicted: a first-person, non-hypothetical sentence with a strong term says it was done;
- internal: a plain first-person claim in one answer against a first-person denial (or the own question's "no")
  in another.

Precision comes first: topics whose words are too vague switch verdicts off in the catalog, generic statements
("DVC is useful because ...") and qualified denials ("did not do extensive profiling") decide nothing, and every
quote is a verbatim piece of one report line.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple

from feedback.consistency.attributes import attribute_findings
from feedback.consistency.catalog import Catalog, Memo, Terms, Topic, item_wording
from feedback.consistency.evidence import (
    AnswerText,
    Polarity,
    Sentence,
    asks_if_not,
    clause_of,
    denied_after,
    describes_procedure,
    generic_clause,
    has_negation,
    introduces_hedged_list,
    is_first_person,
    is_hedged,
    is_past_claim,
    join_answers,
    mention_polarity,
    opens_negatively,
    reads_as_done,
    sentence_cues,
    split_answer,
    starts_list_item,
    states_doing,
    strict_negation,
    strongly_hedged,
    tried_to,
)
from feedback.findings import Category, Finding, Severity, Verdict
from feedback.report.model import ChecklistItem, Question, Report
from feedback.verdicts import Outcome, Stated, Tick, decide, tick_of_item

CONTRADICTED = ("FB501", "claim-contradicted")
UNSUPPORTED = ("FB502", "claim-unsupported")
INTERNAL = ("FB503", "answers-disagree")

MIN_ANSWER_WORDS = 15  # an answer shorter than this says too little to call a ticked item unsupported
MAX_QUOTES = 3
DRAFT_WORDS = 40


class Mention(NamedTuple):
    """What one sentence says about one topic (a named tuple: a report has hundreds, and a frozen dataclass takes
    several times as long to build)."""

    topic: str
    answer: AnswerText
    sentence: Sentence
    polarity: Polarity
    start: int  # absolute offsets of the key words in answer.raw
    end: int
    own: bool  # the sentence answers a question that asks about this topic
    strong: bool  # a strong evidence term (not only a generic or local word)
    opener: bool = False  # derived from an answer that opens with "no" rather than from the words themselves
    local: bool = False  # found only through a word that counts inside the topic's own questions
    # strong terms the sentence denies while it claims another ("Compute Engine was not used, we used Vertex AI")
    denials: tuple[tuple[int, int], ...] = ()

    @property
    def question(self) -> int:
        return self.sentence.question

    @property
    def rel(self) -> int:
        """Start of the key words, relative to the sentence."""
        return self.start - self.sentence.start

    def quote(self) -> tuple[int, str]:
        """The verbatim part of the sentence on the line of the key words (for an opener: the opening sentence)."""
        s = self.sentence
        if self.opener and len(s.text) < 20:  # a bare "No.": quote the rest of its line too
            return self.answer.quote(s.start, len(self.answer.raw))
        line, text = self.answer.quote(self.start, s.end)
        whole = self.answer.quote(max(s.start, self.answer.line_start_of(self.start)), s.end)[1]
        return line, whole or text


@dataclass(slots=True)
class Evidence:
    """All mentions of the topics, gathered once per report."""

    answers: dict[int, AnswerText]
    mentions: dict[str, list[Mention]]
    negative_openers: set[int]
    asked_by: dict[int, tuple[Topic, ...]]  # question number -> topics it asks about
    yes_no: set[int]  # questions that ask "did you ...?"
    contributions: set[int]  # answers listing who did what or the services used: every mention there is a claim
    people: set[int] = field(default_factory=set)  # of those, the ones listing who did what
    memo: Memo | None = None  # the answers joined by blank lines, in order, with the literals found in them

    def of(self, topic: Topic) -> list[Mention]:
        return self.mentions.get(topic.id, [])


def _yes_no(question: Question) -> bool:
    title = question.title.lower()
    return title.startswith(("did you", "have you", "do you")) or " if yes" in title or " if not" in title


def gather(report: Report, catalog: Catalog, topics: tuple[Topic, ...] | None = None) -> Evidence:
    """Mentions of ``topics`` (default: all) in every answer, one regex pass per pattern over the whole report."""
    topics = catalog.topics if topics is None else topics
    answers: dict[int, AnswerText] = {}
    negative_openers: set[int] = set()
    asked_by: dict[int, tuple[Topic, ...]] = {}
    hypothetical_after: dict[int, bool] = {}
    hedged_items: set[tuple[int, int]] = set()  # list items under "... would allow the following:"
    procedural: set[int] = set()  # "the process a new member would go through": its "would" is no hedge
    contribution_questions: set[int] = set()
    people_questions: set[int] = set()
    for q in report.questions:
        if not q.answered or not q.answer.lines:
            continue
        ans = split_answer(q)
        if not ans.sentences:
            continue
        answers[q.number] = ans
        asked = asked_by[q.number] = catalog.topics_for_question(q)
        negative_open = bool(asked) and _yes_no(q) and opens_negatively(ans) and not catalog.is_open(q)
        if negative_open:
            negative_openers.add(q.number)
        hypothetical_after[q.number] = negative_open and asks_if_not(q)
        if describes_procedure(q):
            procedural.add(q.number)
        lists = catalog.lists_contributions(q)
        if lists:
            people_questions.add(q.number)
        if lists or catalog.lists_usage(q):
            contribution_questions.add(q.number)
        in_list = False
        for sent in ans.sentences:
            if in_list and starts_list_item(ans, sent):
                hedged_items.add((q.number, sent.index))
            else:
                in_list = introduces_hedged_list(sent)

    # one string for the whole report, so every pattern runs once per report
    order = list(answers.values())
    joined, offsets = join_answers(order)
    # every sentence of the report, in order: its answer, the sentence, and its start in ``joined``
    flat = [(ans, s) for ans in order for s in ans.sentences]
    flat_starts = [offsets[k] + s.start for k, a in enumerate(order) for s in a.sentences]
    flat_ends = [offsets[k] + s.end for k, a in enumerate(order) for s in a.sentences]
    memo = Memo(joined, catalog.scanner)  # every literal of the catalog found in one scan
    located: dict[int, list[tuple[int, int, int]]] = {}  # id(pattern) -> (sentence, start, end) of its matches

    def hits(terms: Terms) -> list[tuple[int, int, int]]:
        """(sentence, start, end) of every match of ``terms`` that starts in a sentence (relative to it; a match
        running past the sentence is cut at its end), each pattern's matches placed once per report."""
        out: list[tuple[int, int, int]] = []
        for p in terms.patterns:
            got = located.get(id(p))
            if got is None:
                got = located[id(p)] = []
                for a, e in memo.found(p):
                    j = bisect_right(flat_starts, a) - 1
                    if j >= 0 and a < flat_ends[j]:
                        base = flat_starts[j]
                        got.append((j, a - base, min(e, flat_ends[j]) - base))
            out += got
        return out

    mentions: dict[str, list[Mention]] = {}
    for topic in topics:
        found: dict[int, tuple[list[Span], list[tuple[int, int]]]] = {}
        patterns: list[tuple[Terms, int]] = [(topic.strong, STRONG)]
        if topic.terms is not topic.strong:
            patterns.append((topic.terms, TERM))
        if topic.local is not None:
            patterns.append((topic.local, LOCAL))
        for terms, kind in patterns:
            for j, rel, end in hits(terms):
                if kind == LOCAL and topic not in asked_by[flat[j][1].question]:
                    continue
                got = found.get(j)
                if got is None:
                    got = found[j] = ([], [])
                got[0].append((rel, end, kind))
        if topic.negative is not None:
            for j, rel, end in hits(topic.negative):
                got = found.get(j)
                if got is None:
                    got = found[j] = ([], [])
                got[1].append((rel, end))
        out: list[Mention] = []
        for j in sorted(found):
            spans, neg = found[j]
            ans, s = flat[j]
            i = s.index
            own = topic in asked_by[s.question]
            denied = s.question in negative_openers
            hypothetical = hypothetical_after[s.question] and i > 0
            hedged = (s.question, i) in hedged_items
            m = _read(
                topic,
                ans,
                s,
                spans,
                neg[0] if neg else None,
                own,
                denied,
                hypothetical,
                hedged,
                s.question in contribution_questions,
            )
            if (
                m is not None
                and m.polarity is Polarity.HYPOTHETICAL
                and s.question in procedural
                and not hedged
                and not strongly_hedged(s)
            ):
                m = m._replace(polarity=Polarity.MENTION)
            if m is not None:
                out.append(m)
        mentions[topic.id] = out

    # "No." / "We did not manage to." without naming the thing: the question's own topics are denied
    for n in negative_openers:
        ans = answers[n]
        first = ans.sentences[0]
        opened = [t for t in asked_by[n] if t in topics]
        if any(m.question == n and m.sentence.index == 0 for t in opened for m in mentions.get(t.id, [])):
            continue
        for topic in opened:
            mentions.setdefault(topic.id, []).append(
                Mention(topic.id, ans, first, Polarity.NEGATED, first.start, first.end, True, False, True)
            )
    for ms in mentions.values():
        ms.sort(key=lambda m: (m.question, m.start))
    yes_no = {n for n, a in answers.items() if _yes_no(a.question)}
    return Evidence(
        answers, mentions, negative_openers, asked_by, yes_no, contribution_questions, people_questions, memo
    )


Span = tuple[int, int, int]  # start, end (relative to the sentence), kind
STRONG, TERM, LOCAL = 0, 1, 2


def _read(
    topic: Topic,
    ans: AnswerText,
    s: Sentence,
    spans: list[Span],
    negative: tuple[int, int] | None,
    own: bool,
    denied: bool,
    hypothetical: bool,
    hedged: bool,
    contribution: bool = False,
) -> Mention | None:
    """What sentence ``s`` says about ``topic``: a claim wins over a negation, a negation over a hypothetical."""
    if not own and topic.context is not None:
        if not topic.context.search(s.text) and not _service_denied(topic, s, spans):
            return None
        if contribution:  # "s1: GitHub workflows, pre-commit hooks": the context must be in the same list entry
            spans = [x for x in spans if topic.context.search(_entry(s.text, x[0]))]
            if not spans:
                return None
    if not spans:
        if not own or negative is None or not is_first_person(s):
            return None
        return Mention(topic.id, ans, s, Polarity.NEGATED, s.start + negative[0], s.start + negative[1], own, True)
    read: list[tuple[int, int, int, Polarity]] = []  # rank, start, end, polarity
    cues = None if s.code else sentence_cues(s)
    for a, b, kind in sorted(spans, key=lambda x: (x[0], x[2])) if len(spans) > 1 else spans:
        if s.code:
            read.append((_RANK[Polarity.CLAIM], a, b, Polarity.CLAIM) if kind != LOCAL else (9, a, b, Polarity.CLAIM))
            continue
        pol = mention_polarity(s, a, b, cues)
        if pol is Polarity.CLAIM:
            if generic_clause(s, a) or not (contribution or is_first_person(s)):
                pol = Polarity.MENTION  # "DVC is useful because ...", "but it makes sense to ...": no claim
            elif hedged or (hypothetical and not reads_as_done(s, a)):
                pol = Polarity.HYPOTHETICAL
            elif kind == LOCAL and (denied or negative is not None):
                continue  # after "No." a bare "training" is the local training, not the cloud one
        read.append((_RANK[pol] + (10 if kind == LOCAL and pol is Polarity.CLAIM else 0), a, b, pol))
    if not read:
        return None
    strong_at = {x for x, _e, k in spans if k == STRONG}
    read.sort(key=lambda r: (r[0], r[1] not in strong_at, r[1]))
    rank, a, b, pol = read[0]
    if rank >= 10 and any(p is Polarity.NEGATED for _r, _a, _b, p in read):
        # a claim made only with a generic local word does not outweigh an explicit negation in the sentence
        rank, a, b, pol = next(r for r in read if r[3] is Polarity.NEGATED)
    if negative is not None and pol is not Polarity.CLAIM and is_first_person(s):
        pol = Polarity.NEGATED  # "all training was done locally": about what the group did, not a comparison
    kinds = {k for x, _e, k in spans if x == a}
    denials = tuple(
        (s.start + x, s.start + e) for _r, x, e, p in read if p is Polarity.NEGATED and x != a and x in strong_at
    )
    # "the tests check that the data ...": in the topic's own question a local word is strong beside a confirming one
    strong = STRONG in kinds or (LOCAL in kinds and topic.confirm is not None and topic.confirm.search(s.text))
    return Mention(
        topic.id, ans, s, pol, s.start + a, s.start + b, own, strong, local=kinds == {LOCAL}, denials=denials
    )


def _service_denied(topic: Topic, s: Sentence, spans: list[Span]) -> bool:
    """ "Compute Engine was not used in the final setup": a service of the topic denied plainly is about the topic
    whatever the sentence's context (a service not used at all was not used for the topic's purpose either)."""
    if not topic.services or not _DENIAL_WORD.search(s.text):
        return False  # most sentences hold no denial at all: no pattern of the topic needs to run
    return any(
        kind == STRONG and topic.services_in(s.text[a:b]) and (denied_after(s, b) or strict_negation(s, a))
        for a, b, kind in spans
    )


_DENIAL_WORD = re.compile(r"n[o']?t\b|\bnever\b|\bunable\b|\bfailed\b|\bunsuccessful")


_LIST_SEPARATOR = re.compile(r",|;|\band\b|\s&\s")


def _entry(text: str, pos: int) -> str:
    """The entry of a listing sentence ("docker, linting in CI and the API") that holds offset ``pos``."""
    start = max((m.end() for m in _LIST_SEPARATOR.finditer(text, 0, pos)), default=0)
    stop = _LIST_SEPARATOR.search(text, pos)
    return text[start : stop.start() if stop else len(text)]


_RANK = {Polarity.CLAIM: 0, Polarity.NEGATED: 1, Polarity.MENTION: 2, Polarity.ATTEMPT: 3, Polarity.HYPOTHETICAL: 4}


# ---------------------------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class TopicState:
    """What the answers state about one topic (``stated`` None: nothing to decide on), with the evidence."""

    stated: Stated | None
    confidence: float
    mentions: tuple[Mention, ...]
    strict: bool = False  # the denial is plain ("we did not use X"), enough against a partial tick

    @property
    def verdict(self) -> Verdict | None:
        """The verdict for a ticked item."""
        return decide(Tick.TICKED, self.stated).outcome.verdict if self.stated is not None else None


def _own_answered(report: Report, topic: Topic, ev: Evidence) -> list[int]:
    return [
        n
        for n, topics in ev.asked_by.items()
        if topic in topics
        and (q := report.question(n)) is not None
        and q.answer.words >= MIN_ANSWER_WORDS
        and not (q.answer.placeholders and q.answer.words < DRAFT_WORDS)  # a note beside the placeholder: a draft
    ]


def _answer_says_no(topic: Topic, ev: Evidence) -> list[Mention]:
    """Negations that settle the topic's own yes/no question: the answer opens with "no" about it, or its last word
    on the topic is a turn-around ("We set up X. However, we were unsuccessful in X.")."""
    out: list[Mention] = []
    for n in sorted(ev.yes_no):
        if topic not in ev.asked_by.get(n, ()):
            continue
        ms = [m for m in ev.of(topic) if m.question == n and m.polarity in (Polarity.CLAIM, Polarity.NEGATED)]
        if not ms:
            continue
        first, last = ms[0], ms[-1]
        claimed = any(m.polarity is Polarity.CLAIM for m in ms)
        if (
            n in ev.negative_openers
            and first.sentence.index == 0
            and first.polarity is Polarity.NEGATED
            and not (first.opener and claimed)  # "No monitoring. We did set up drift detection though."
        ):
            out.append(first)
        elif (
            last.polarity is Polarity.NEGATED
            and first is not last
            and _TURN.search(last.sentence.text)
            and not _PURPOSE.match(last.answer.norm, last.end)  # "did not use DVC for versioning": a part only
        ):
            out.append(last)
    return out


_SUCCESS = re.compile(r"\b(?:managed|succeeded|successfully|were able|was able)\b")
_PARTIAL = re.compile(r"\s+(?:for|to|in order|completely|fully|entirely|with|beyond|directly)\b")
_PURPOSE = re.compile(r"\s+(?:for|to|as|in order)\b")
_PLANNED = re.compile(r"\b(?:planned|future|upcoming)\s+(?:[\w/-]+\s+)?$|\bnext (?:steps?|challenges?) (?:\w+ ){0,3}$")
_TURN = re.compile(r"\b(?:however|but|unfortunately|in the end|eventually|ultimately|due to|remained)\b")


def _ticked_state(report: Report, topic: Topic, ev: Evidence) -> TopicState:
    ms = ev.of(topic)
    claims = [m for m in ms if m.polarity is Polarity.CLAIM]
    negs = [m for m in ms if m.polarity is Polarity.NEGATED]
    soft = [m for m in ms if m.polarity in (Polarity.HYPOTHETICAL, Polarity.ATTEMPT)]
    planned = [m for m in soft if m.own and m.polarity is Polarity.HYPOTHETICAL and _FIRST_PLAN.search(m.sentence.text)]
    if planned and claims and all(c.question in ev.people and _in_brackets(c) for c in claims):
        claims = []  # "For load testing we would use Locust" against a bracketed listing in the contributions
    if negs and not claims:
        own = [m for m in negs if m.own]
        conf = 0.85 if own else 0.7
        # the plainest denial first ("No, we did not use DVC" over "we did not use DVC for the models")
        plain = [m for m in own or negs if _plain_denial(m, ev)]
        ranked = plain + [m for m in own or negs if m not in plain]
        return TopicState(Stated.NOT_DONE, conf, tuple(ranked[:MAX_QUOTES]), bool(plain))
    settled = _answer_says_no(topic, ev)
    if settled:
        return TopicState(Stated.NOT_DONE, 0.7, tuple(settled[:MAX_QUOTES]), True)  # the answer says "no"
    if claims or any(m.polarity is Polarity.MENTION for m in ms):
        return TopicState(Stated.DONE, 0.0, tuple(claims[:1]))
    # nothing said it was done
    in_denied = [m for m in soft if m.own and m.question in ev.negative_openers]
    if in_denied:
        plans = all(m.polarity is Polarity.HYPOTHETICAL for m in in_denied)
        return TopicState(Stated.PLANNED_ONLY if plans else Stated.NOT_DONE, 0.65, tuple(in_denied[:MAX_QUOTES]))
    if planned and not negs:
        return TopicState(Stated.PLANNED_ONLY, 0.6, tuple(planned[:MAX_QUOTES]))  # "we would use Locust"
    if topic.unsupported and _own_answered(report, topic, ev):
        return TopicState(Stated.NOT_MENTIONED, 0.5 if soft else 0.7, tuple(soft[:MAX_QUOTES]))
    if topic.unsupported and topic.questions is None and not ms and _complete(report, ev):
        # no question asks about it, but a complete report never names it at all
        return TopicState(Stated.NOT_MENTIONED, 0.4, ())
    return TopicState(None, 0.0, ())


# "we would use Locust", "we would have liked to set up alerts": the group's own plan, in first person
_FIRST_PLAN = re.compile(r"\bwe (?:would|will|plan(?:ned)? to|intend(?:ed)? to|hope(?:d)? to|want(?:ed)? to)\b")


def _plain_denial(m: Mention, ev: Evidence) -> bool:
    """A denial that says it was not done at all ("No, we did not use DVC"), not only a part ("... for the models")."""
    if m.opener or (m.own and m.sentence.index == 0 and m.question in ev.negative_openers):
        return True
    return strict_negation(m.sentence, m.rel) and not _PARTIAL.match(m.answer.norm, m.end)


def _complete(report: Report, ev: Evidence) -> bool:
    return len(report.questions) >= 20 and len(ev.answers) >= len(report.questions) - 1


def _unticked_state(topic: Topic, ev: Evidence) -> TopicState:
    ms = ev.of(topic)
    claims = [
        m
        for m in ms
        if (m.polarity is Polarity.CLAIM or _own_command(m))
        and m.strong
        # "we cloned it to a VM, though we could not use it for training": with a negation in the sentence, only an
        # explicit success ("we managed with the engine, but ...") still claims the item
        and (not has_negation(m.sentence) or _SUCCESS.search(m.sentence.text) is not None)
        and (m.sentence.code or not sentence_cues(m.sentence).attempts)  # "we used docker to attempt to ...": tried
        and (
            (states_doing(m.sentence, m.rel) and reads_as_done(m.sentence, m.rel))
            or ((m.sentence.code or _own_command(m)) and m.own)
            or (m.question in ev.people and not is_hedged(m.sentence))  # "s1: initial creator of the repo"
        )
    ]
    if not claims:
        return _shown(topic, ev) if topic.figure else TopicState(None, 0.0, ())
    denied = any(m.polarity is Polarity.NEGATED and m.own for m in ms)
    own = [m for m in ms if m.own and not m.local]
    if any(_replaced(m) for m in own):
        # "However, DVC push posed issues, thus the group instead utilized gcloud": the own answer's last word is
        # that something else took its place
        return TopicState(None, 0.0, ())
    if own and not claims[0].own and all(m.polarity not in (Polarity.CLAIM, Polarity.MENTION) for m in own):
        # the topic's own answer only plans, tries or denies it ("we would use Locust"): a listing elsewhere
        # ("s2: API tests, load tests") does not outweigh it
        return TopicState(None, 0.0, ())
    # asked_by holds answered questions only (gather fills it beside answers)
    if all(m.question in ev.people and _in_brackets(m) for m in claims) and any(
        topic in topics for topics in ev.asked_by.values()
    ):
        # only a bracketed list in the contributions answer names it ("s3 emphasized operations (storage, alerts)")
        # while the question that asks about it is answered without saying so: not clearly done
        return TopicState(None, 0.0, ())
    # the plainest statement first: its own question, a strong term (not a confirmed local word), "we used ..." over a
    # looser verb of doing
    claims.sort(key=lambda m: (not m.own, not m.strong, m.local, not is_past_claim(m.sentence)))
    if denied and not (claims[0].own and claims[0].strong):
        return TopicState(None, 0.0, ())  # the topic's own answer also says no: leave it to the reader
    conf = 0.75 if claims[0].own and claims[0].strong else 0.6
    return TopicState(Stated.DONE, conf - (0.15 if denied else 0.0), tuple(claims[:MAX_QUOTES]))


_REPLACED = re.compile(
    r"\binstead\b(?!\s+of)(?!\s+(?:\w+\s+)?(?:it|them|this|that)\b)"  # "instead used it": the same thing
    r"|\b(?:switched|went back|reverted|resorted|fell back)\s+to\b"
)


def _replaced(m: Mention) -> bool:
    """After a turn ("however", "but", "unfortunately"), the sentence says the group used something else instead."""
    text = m.sentence.text
    return _TURN.search(text, 0, m.rel) is not None and _REPLACED.search(text, m.rel) is not None


_COMMAND = re.compile(r"`{1,3}\s*[a-z][\w.-]*\s+[a-z-]")


def _in_brackets(m: Mention) -> bool:
    """The mention sits inside an open parenthesis of its sentence ("operations (storage, cloud runs, alerts)")."""
    before = m.sentence.text[: m.rel]
    return before.count("(") > before.count(")")


def _own_command(m: Mention) -> bool:
    """The mention is inside an inline shell command in the topic's own answer ("* `conda create -n proj`"): a
    command of the group's setup, unless the sentence denies or only plans it."""
    if not m.own or m.polarity not in (Polarity.CLAIM, Polarity.MENTION) or m.sentence.code:
        return False
    line_start = m.answer.line_start_of(m.start)
    before = m.answer.raw[line_start : m.start]
    opened = before.rfind("`")
    return (
        before.count("`") % 2 == 1
        and _COMMAND.match(m.answer.raw, line_start + opened) is not None
        and not is_hedged(m.sentence)
        and not has_negation(m.sentence)
    )


_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]+\)|<img\b[^>\n]*>")


def _shown(topic: Topic, ev: Evidence) -> TopicState:
    """An image in the answer to the topic's own question (the architecture figure): the thing was made."""
    for n, topics in ev.asked_by.items():
        if topic not in topics or n not in ev.answers or opens_negatively(ev.answers[n]):
            continue
        ans = ev.answers[n]
        m = _IMAGE.search(ans.norm)
        s = next((x for x in ans.sentences if m is not None and x.start <= m.start() < x.end), None)
        if m is not None and s is not None:
            shown = Mention(topic.id, ans, s, Polarity.CLAIM, m.start(), m.end(), True, True)
            return TopicState(Stated.DONE, 0.6, (shown,))
    return TopicState(None, 0.0, ())


def _quotes(report: Report, mentions: tuple[Mention, ...] | list[Mention]) -> tuple[list[tuple[int, str]], list[int]]:
    quotes: list[tuple[int, str]] = []
    questions: list[int] = []
    for m in mentions:
        line, text = m.quote()
        if not text or text not in report.line_text(line) or (line, text) in quotes:
            continue
        quotes.append((line, text))
        if m.question not in questions:
            questions.append(m.question)
    return quotes, questions


def _where(quotes: list[tuple[int, str]], questions: list[int]) -> str:
    return ", ".join(f"Q{q}" for q in questions) + f" (line {quotes[0][0]})"


def _item_finding(
    report: Report, item: ChecklistItem, topics: tuple[Topic, ...], ev: Evidence, untouched: bool
) -> Finding | None:
    """The item's finding, decided by the shared verdict table (feedback.verdicts) from what the answers state."""
    tick = tick_of_item(item)
    if tick is not Tick.UNTICKED:
        topics = tuple(t for t in topics if t.ticked)
        if not topics:
            return None
        states = [(t, _ticked_state(report, t, ev)) for t in topics]
        contra = []
        for t, st in states:
            if st.stated is None or (tick is Tick.PARTIAL and not st.strict):
                continue  # a partial mark is contradicted only by a plain "not done at all"
            rule = decide(tick, st.stated)
            if rule.outcome is Outcome.CONTRADICTED:
                contra.append((t, st, rule))
        if contra:
            topic, state, rule = max(contra, key=lambda c: c[1].confidence)
            quotes, qs = _quotes(report, state.mentions)
            if not quotes:
                return None
            return _finding(
                CONTRADICTED,
                Verdict.CONTRADICTED,
                rule.severity or Severity.WARNING,
                rule.render(where=_where(quotes, qs), what=topic.name, quote=quotes[0][1]),
                item,
                state.confidence,
                quotes,
                qs,
            )
        unsupported = [decide(tick, st.stated) for _t, st in states if st.stated is Stated.NOT_MENTIONED]
        if len(unsupported) == len(states) and all(r.outcome is Outcome.UNSUPPORTED for r in unsupported):
            return _unsupported(report, item, states, ev, unsupported[0].severity or Severity.INFO)
        return None
    if not all(t.unticked for t in topics):
        return None  # a topic too vague to say an unticked item was done
    found = [_unticked_state(t, ev) for t in topics]
    if not all(s.stated is Stated.DONE for s in found):
        return None
    rule = decide(tick, Stated.DONE, untouched=untouched)
    if rule.outcome is not Outcome.CONTRADICTED:
        return None
    conf = min(s.confidence for s in found)
    quotes, qs = _quotes(report, [m for s in found for m in s.mentions])
    if not quotes:
        return None
    return _finding(
        CONTRADICTED,
        Verdict.CONTRADICTED,
        rule.severity or Severity.WARNING,
        rule.render(where=_where(quotes, qs), quote=quotes[0][1]),
        item,
        conf,
        quotes,
        qs,
    )


def _unsupported(
    report: Report, item: ChecklistItem, states: list[tuple[Topic, TopicState]], ev: Evidence, severity: Severity
) -> Finding:
    conf = min(s.confidence for _t, s in states)
    quotes, qs = _quotes(report, [m for _t, s in states for m in s.mentions])
    asked = sorted({n for t, _s in states for n in _own_answered(report, t, ev)})
    names = " / ".join(t.name for t, _s in states)
    where = ", ".join(f"Q{n}" for n in asked)
    how = "only as a possibility" if quotes else "nowhere"
    if not quotes:  # show what the answer talks about instead: its opening words
        for n in asked[:2]:
            sentences = ev.answers[n].sentences
            first = next((s for s in sentences if len(s.text.split()) >= 5), sentences[0])
            line, text = ev.answers[n].quote(first.start, first.end)
            if text and text in report.line_text(line):
                quotes.append((line, text))
        qs = []
    comment = item.text[len(item_wording(item.text)) :].strip()
    if comment and comment in report.line_text(item.line):
        quotes.append((item.line, comment))  # the group's own note on the item ("-> Comment: we used W&B")
    if not quotes:  # nothing asks about it: quote the ticked item itself
        line_text = report.line_text(item.line)
        piece = line_text[line_text.find("]") + 1 :].strip() if "]" in line_text else line_text.strip()
        if piece:
            quotes.append((item.line, piece))
    return _finding(
        UNSUPPORTED,
        Verdict.UNSUPPORTED,
        severity,
        (
            f"Ticked, but no answer says {names} was used: {where} asks about it and mentions it {how}."
            if asked
            else f"Ticked, but no answer mentions {names} (no question asks about it directly)."
        ),
        item,
        conf,
        quotes,
        qs or asked,
        line=item.line,
    )


def _finding(
    kind: tuple[str, str],
    verdict: Verdict,
    severity: Severity,
    message: str,
    item: ChecklistItem | None,
    confidence: float,
    quotes: list[tuple[int, str]],
    questions: list[int],
    line: int | None = None,
) -> Finding:
    return Finding(
        code=kind[0],
        check=kind[1],
        category=Category.CONSISTENCY,
        severity=severity,
        message=message,
        line=quotes[0][0] if quotes else line,
        question=questions[0] if questions else None,
        questions=tuple(questions),
        checklist_item=item.text if item is not None else None,
        checked=item.checked if item is not None else None,
        verdict=verdict,
        confidence=round(confidence, 2),
        evidence=tuple(q for _l, q in quotes),
    )


def _internal(report: Report, catalog: Catalog, ev: Evidence) -> list[Finding]:
    out: list[Finding] = []
    for topic in catalog.topics:
        if not topic.internal:
            continue
        ms = ev.of(topic)
        claims = [
            m
            for m in ms
            if m.polarity is Polarity.CLAIM
            and not m.sentence.code
            and (m.strong or m.own)
            and not m.local
            and (
                (is_past_claim(m.sentence) and reads_as_done(m.sentence))
                or m.question in ev.contributions  # "Benjamin: FastAPI and deployment to the cloud"
            )
            and not is_hedged(m.sentence)  # "we planned to use VMs, however ... getting the VMs set up"
            and not has_negation(m.sentence)  # "we played with Vertex AI, but never got it to work"
            and not sentence_cues(m.sentence).negations  # "worked on a profiler that was not merged"
            and m.question not in ev.negative_openers
        ]
        if not claims:
            continue  # every disagreement below sets a claim against something: without one there is none
        denied = [
            m
            for m in ms
            if m.polarity is Polarity.NEGATED
            and not m.local
            # "we did not deploy the API", or subject first: "the API was never deployed"
            and (strict_negation(m.sentence, m.rel) or (m.strong and _denied_after(m)))
            and not _PARTIAL.match(m.answer.norm, m.end)  # "did not use DVC for versioning", "... completely"
            and not _weakly_denied(m)  # "we did not provision Compute Engine VMs directly"
        ]
        # "We tried to implement a frontend and kept the file": only tried, in the topic's own question
        tried = [
            m
            for m in ms
            if m.polarity in (Polarity.ATTEMPT, Polarity.NEGATED) and m.own and tried_to(m.sentence, m.rel)
        ]
        # "Planned monitoring/drift checks would ...", "next steps would be drift detection": not there yet
        planned = [
            m
            for m in ms
            if not m.local
            and (
                (m.polarity is Polarity.HYPOTHETICAL and _PLANNED.search(m.sentence.text, max(0, m.rel - 40), m.rel))
                or _group_plan(m, ev)
            )
        ]
        said_no = [m for m in _answer_says_no(topic, ev) if not _weakly_denied(m)]
        negs = said_no + denied + tried  # the own yes/no question answered "no" comes first
        # one finding per answer that denies or only plans it, each against one answer that claims it
        pairs: list[tuple[tuple[Mention, Mention], str]] = []
        for n in negs + planned:
            if any(p[1].question == n.question for p, _w in pairs):
                continue
            c = next((c for c in claims if c.question != n.question and _same_service(topic, c, n)), None)
            if c is not None:
                pairs.append(((c, n), topic.name))
        found = _service_pair(topic, ms, claims)
        if found is not None and not any(p[1].question == found[0][1].question for p, _w in pairs):
            pairs.append((found[0], f"{found[1]} ({topic.name})"))
        if not pairs:
            continue
        item = next((i for i in report.checklist if topic in catalog.topics_for_item(i)), None)
        for pair, what in pairs:
            quotes, qs = _quotes(report, list(pair))
            if len(quotes) < 2:
                continue
            conf = 0.7 if pair[1].own and pair[1] not in tried else 0.6
            out.append(
                _finding(
                    INTERNAL,
                    Verdict.INTERNAL,
                    Severity.WARNING if conf >= 0.7 else Severity.INFO,
                    f"Answers disagree about {what}: Q{qs[0]} says it was done, Q{qs[-1]} "
                    f"{'describes it as planned' if pair[1] in planned else 'says it was not'} "
                    f"(lines {quotes[0][0]} and {quotes[1][0]}).",
                    item,
                    conf,
                    quotes,
                    qs,
                )
            )
    return out


# "we will try to implement Lightning", "we plan to add alerts": the group's own plan, a few words before the mention
# (a report is written at the end: a plan there and a claim of doing it elsewhere cannot both be current)
_PLAN_BEFORE = re.compile(
    r"\bwe (?:will|shall|plan to|are planning to|intend to|hope to|are going to|aim to)"
    r"(?: (?:also|still|then|later|try to|try and|attempt to|be able to|need to)){0,2}(?:\s+[^\s,;]+){0,12}\s*$"
)
_WOULD_BEFORE = re.compile(
    r"\bwe would(?: (?:also|probably|likely|then|first|have to|need to))*(?:\s+[^\s,;]+){0,4}\s*$"
)


def _group_plan(m: Mention, ev: Evidence) -> bool:
    """The sentence states the group's own plan for the topic: "we will (try to) use X" anywhere; "we would use X" in
    the topic's own answer to an "if not, how would you ..." question, where the answer claims nothing of the topic.
    Not inside a condition ("if we had time, we will ...") and not when the plan is only to do more of it."""
    s = m.sentence
    if m.polarity is Polarity.NEGATED or "we " not in s.text:  # every plan below is the group's: "we will", "we would"
        return False
    planning = _PLAN_WORD.search(s.text) is not None
    if not planning and not (m.own and "would" in s.text):
        return False  # most sentences: no pattern below needs to run
    a, _b = clause_of(m.sentence, m.rel)
    if _CONDITIONAL_BEFORE.search(s.text, 0, m.rel):
        return False
    if _QUALIFIER_BEFORE.search(s.text, max(a, m.rel - 40), m.rel):
        return False  # "we will extend the tests further": more of something done
    if planning and _PLAN_BEFORE.search(s.text, max(a, m.rel - 120), m.rel):
        return True
    # "For load testing, we would use Locust": the topic opens the sentence, the plan follows its comma
    opening = _PURPOSE_THEN.match(s.text)
    framed = opening is not None and m.rel < opening.end()
    return (
        m.own
        and asks_if_not(m.answer.question)
        and (framed or _WOULD_BEFORE.search(s.text, max(a, m.rel - 60), m.rel) is not None)
        and not any(x.polarity is Polarity.CLAIM for x in ev.mentions.get(m.topic, []) if x.question == m.question)
    )


_PLAN_WORD = re.compile(r"will|shall|plan|intend|hope|going to|aim to")  # a word every cue of _PLAN_BEFORE holds
_PURPOSE_THEN = re.compile(r"\s*(?:for|to|regarding|as for|when it comes to)\s[^,;.]{1,60},\s*we would\b")
_CONDITIONAL_BEFORE = re.compile(r"\b(?:if|unless|once|when)\b")
_QUALIFIER_BEFORE = re.compile(r"\b(?:more|further|extend|expand|improve|additional|extra|better|also add more)\b")
_WEAK_DENIAL = re.compile(
    r"\b(?:directly|fully|completely|entirely|really|much|extensively|need|needed"
    r"|gpus?|main model|final model)\b"  # "could not train using a GPU": the resource is denied, not the topic
)


def _denied_after(m: Mention) -> bool:
    return denied_after(m.sentence, m.end - m.sentence.start)


def _weakly_denied(m: Mention) -> bool:
    """The denial is hedged by a word in its clause ("did not directly use", "not fully", "did not need")."""
    a, b = clause_of(m.sentence, m.rel)
    return _WEAK_DENIAL.search(m.sentence.text, a, b) is not None


_CONDITIONAL = re.compile(r"\s*(?:if|unless|when|whether)\b")


def _same_service(topic: Topic, claim: Mention, denial: Mention) -> bool:
    """The claim and the denial can be about one thing: not two different services of the topic ("we used Compute
    Engine" / "Vertex AI did not work for us")."""
    if not topic.services:
        return True
    a, b = (0, len(denial.sentence.text)) if denial.opener else clause_of(denial.sentence, denial.rel)
    denied = topic.services_in(denial.sentence.text[a:b])
    claimed = topic.services_in(claim.sentence.text)
    return not (denied and claimed) or bool(denied & claimed)


def _service_pair(topic: Topic, ms: list[Mention], claims: list[Mention]) -> tuple[tuple[Mention, Mention], str] | None:
    """One named service or tool denied plainly in one answer ("Compute Engine hasn't been used in this project",
    "we did not use Vertex AI") and claimed by name in another ("the most expensive service was Compute Engine"),
    where the topic as a whole is claimed in both (the denying answer used another service of the topic)."""
    for m in ms:
        spans = ((m.start, m.end),) if m.polarity is Polarity.NEGATED else m.denials
        for a, b in spans:
            rel, name = a - m.sentence.start, m.answer.norm[a:b]
            if len(name) < 3 or _PARTIAL.match(m.answer.norm, b) or m.local:
                continue
            if not (strict_negation(m.sentence, rel) or denied_after(m.sentence, b - m.sentence.start)):
                continue
            ca, cb = clause_of(m.sentence, rel)
            if _WEAK_DENIAL.search(m.sentence.text, max(ca, rel - 60), cb):
                continue  # "did not directly use", "did not need to use": not a plain "it was not used"
            for c in claims:
                if c.question == m.question or _CONDITIONAL.match(c.sentence.text):
                    continue  # "If we disregard the forgotten instance, ...": no plain claim
                named = topic.services_in(name)
                if (
                    (named & topic.services_in(c.sentence.text))
                    if named
                    else re.search(rf"\b{re.escape(name)}\b", c.sentence.text)
                ):
                    denial = m._replace(polarity=Polarity.NEGATED, start=a, end=b, denials=())
                    return (c, denial), m.answer.raw[a:b].strip()
    return None


def analyse_report(report: Report, catalog: Catalog) -> list[Finding]:
    # only the topics that can give a verdict on this report: the rest would be read for nothing
    on_items = {
        t.id for i in report.checklist for t in catalog.topics_for_item(i) if (t.ticked if i.checked else t.unticked)
    }
    needed = tuple(t for t in catalog.topics if t.internal or t.id in on_items)
    ev = gather(report, catalog, needed)
    findings: list[Finding] = []
    untouched = not any(i.checked for i in report.checklist)  # nobody ticked anything (feedback.verdicts)
    for item in report.checklist:
        topics = catalog.topics_for_item(item)
        if topics:
            f = _item_finding(report, item, topics, ev, untouched)
            if f is not None:
                findings.append(f)
    internal = _internal(report, catalog, ev)
    findings.extend(internal)
    # one attribute given two values ("MkDocs" / "Sphinx"), unless the topic rules already set the two answers apart
    pairs = {frozenset(f.questions) for f in internal}
    items = {t.id: i for i in reversed(report.checklist) for t in catalog.topics_for_item(i)}
    found = attribute_findings(report, ev.answers, items, ev.memo.positions if ev.memo is not None else None)
    findings.extend(f for f in found if frozenset(f.questions) not in pairs)
    return findings
