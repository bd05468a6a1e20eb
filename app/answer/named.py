"""A question that names someone or something is answered from the articles that name them.

e5 ranks a passage about the right kind of event close to the question even when it is another
event: "How many people attended the forum in Bucharest?" finds the head count of the forum in
The Hague, and quotes it. When the question names something (`app.text.transliterate`: Latin
names, found in the index in Arabic spelling) and some retrieved article names it too, only the
articles naming it may answer; if none of those answers, the archive does not say. A name no
retrieved article holds constrains nothing: its spelling may be a guess that happens to be a word.

Measured (extractive/hybrid): seed refusal accuracy 0.625 -> 0.667 (English 0.583 -> 0.667), no
new false refusal, the time questions unchanged. Tried per passage rather than per article (a
passage may not repeat the name its article gives), on questions in several parts (each part
another article's) or on timelines (a wrong spelling held by one article kept only that one),
it refused or cut answers it had given.
"""

from __future__ import annotations

from app.answer.extractive import asks_several_sources, question_parts
from app.index.lexical import LexicalIndex
from app.index.records import parse_passage_id
from app.retrieve import Hit
from app.text.transliterate import spelled_names

# A name held by more passages than this singles out no article (and listing them costs time).
MOST_PASSAGES = 5000


def articles_naming(stems: tuple[str, ...], lexical: LexicalIndex) -> set[str] | None:
    """The articles holding one of a name's stems; None when the name is too common to tell."""
    passages = [pid for stem in stems for pid in lexical.holding(stem)]
    if len(passages) > MOST_PASSAGES:
        return None
    return {parse_passage_id(pid)[0] for pid in passages}


def naming_hits(question: str, hits: list[Hit], lexical: LexicalIndex) -> list[Hit]:
    """The hits that may answer a question naming things: of articles naming all of them. All
    hits when it names nothing the retrieved articles hold, or when it asks about several events
    or in several parts (each may be another article's, naming one thing or none)."""
    if asks_several_sources(question) or len(question_parts(question)) > 1:
        return hits
    retrieved = {hit.passage.source for hit in hits}
    wanted = []
    for stems in spelled_names(question, lexical.knows):
        articles = articles_naming(stems, lexical)
        if articles is not None and articles & retrieved:
            wanted.append(articles)
    return [hit for hit in hits if all(hit.passage.source in articles for articles in wanted)]
