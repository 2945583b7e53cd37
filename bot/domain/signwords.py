"""Words that name a warning sign (clinical.md §2, last paragraph), in English and in French.

A person rarely uses the checklist's words: they write "can't pee", "wet myself", "both legs",
"je n'arrive pas à uriner", "fuites". ``signs_named`` finds which of the ten EMERGENCY and
URGENT stop signals a free text may describe, so that the bot asks about them at once (with
their full descriptions, "Is that right?") instead of answering "I did not understand".

Cautious on purpose: a false match costs one question that the person can correct ("No,
change"), a missed one could cost a warning sign. Only a negation right before the words ("no
fever", "pas de fièvre", "sans fièvre") rules a match out, within the same clause. Case, accents
and the kind of apostrophe are ignored. Pure: no Telegram, no database.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from types import MappingProxyType

__all__ = ["PHRASES", "may_be_question", "normalise", "signs_named"]

_MAX_INPUT = 2000  # longer text is read up to here (a warning sign is said early)

# A few words of anything between two parts of a phrase ("numb all the way down there").
_GAP = r"(?: [a-z0-9']+){0,4}"

_NUMB_EN = (
    r"(?:numb\w*|tingl\w*|pins and needles|no feeling|lost (?:the |all )?feeling|loss of feeling"
    r"|can'?t feel|cannot feel|can not feel|dead|strange|weird|odd|funny|different|altered)"
)
_SADDLE_EN = (
    r"(?:down there|between (?:my|the|both) legs|groin|genital\w*|crotch|private parts|privates"
    r"|back passage|anus|bum|buttocks|bottom|backside|inner thighs?|perineum|saddle)"
)
_NUMB_FR = (
    r"(?:engourdi\w*|fourmill\w*|picot\w*|insensib\w*|endormi\w*|sens (?:plus|pas|rien)"
    r"|perte de sensib\w*|sensation (?:bizarre|etrange|differente|modifiee)|bizarre|differente?)"
)
_SADDLE_FR = (
    r"(?:entre les jambes|entrejambe|parties intimes|organes genitaux|parties genitales|sexe"
    r"|anus|fesses|interieur des cuisses|perinee|zone de la selle)"
)
_WEAK_EN = r"(?:weak\w*|numb\w*|giving way|gave way|give way|giving out|gave out|buckl\w*|dead)"
_WEAK_FR = (
    r"(?:faible\w*|faiblesse|engourdi\w*|lach\w*|se derobent|flanch\w*|molles|en coton"
    r"|insensibles?|paralys\w*)"
)
_ARMS_EN = r"(?:arms?|hands?|fingers)"
_ARMS_FR = r"(?:bras|mains?|doigts)"
_CANT_EN = r"(?:can'?t|cannot|can not|unable to|not able to|struggling to|struggle to)"
_CANT_FR = (
    r"(?:n' arrive (?:pas|plus) a|arrive (?:pas|plus) a|ne peux (?:pas|plus)|peux (?:pas|plus)"
)
_CANT_FR += r"|impossible d'|impossible de|du mal a|difficile d'|difficile de|difficulte a)"

# Each sign's everyday phrasings (normalised text: lower case, no accents, ' as apostrophe).
PHRASES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        # 1. Saddle area.
        "saddle": (
            rf"{_NUMB_EN}{_GAP} {_SADDLE_EN}",
            rf"{_SADDLE_EN}{_GAP} (?:is |are |feels? |feeling |went |gone )?{_NUMB_EN}",
            r"(?:feels? different|can'?t feel|cannot feel|numb\w*)(?: \w+){0,3} when i wipe",
            r"saddle (?:area|numbness|anaesthesia|anesthesia)",
            rf"{_NUMB_FR}{_GAP} {_SADDLE_FR}",
            rf"{_SADDLE_FR}{_GAP} (?:est |sont )?{_NUMB_FR}",
            r"(?:sens|sensation)(?: \w+){0,4} (?:quand je m' essuie|en m' essuyant)",
        ),
        # 2. Bladder.
        "bladder": (
            rf"{_CANT_EN} (?:pee|wee|urinate|pass water|pass urine|go for a wee|empty my bladder)",
            r"(?:trouble|difficulty|problems?|hard|struggling) (?:\w+ )?(?:peeing|weeing|urinating"
            r"|passing water|passing urine|to pee|to wee|to urinate|starting to pee)",
            r"(?:wet|wetting|peed|pissed|weed) (?:myself|the bed|my pants|my trousers)",
            r"(?:leak\w*|dribbl\w*) (?:\w+ )?(?:urine|pee|wee)",
            r"(?:urine|pee|wee) (?:\w+ )?leak\w*",
            r"bladder",
            r"urinary (?:incontinence|retention)|urine retention|incontinen\w*",
            r"(?:weak|weaker|slow) (?:flow|stream)",
            r"(?:can'?t|cannot|don'?t|do not) (?:feel|tell|know) (?:\w+ ){0,3}"
            r"(?:need to pee|need to wee|bladder is full)",
            rf"{_CANT_FR} (?:uriner|faire pipi|pisser|vider ma vessie)",
            r"fuites?",
            r"vessie",
            r"incontinen\w*",
            r"retention (?:urinaire|d' urine)",
            r"troubles? urinaires?",
            r"jet (?:\w+ ){0,2}(?:plus |tres )?faible",
            r"(?:me suis|s' est) (?:fait|fais) dessus|fait pipi sur moi|mouille (?:mon|le) lit",
            r"(?:sens|sent) (?:plus|pas) (?:l' envie|le besoin|quand j' ai besoin) d' uriner",
        ),
        # 3. Bowel.
        "bowel": (
            r"bowels?",
            r"(?:soiled|pooed|pooped|shat|shit|messed) (?:myself|my pants|my trousers)",
            rf"{_CANT_EN} (?:hold|control) (?:\w+ )?(?:poo|poop|stool|stools|bowels?)",
            r"(?:fa?ecal|anal) incontinence",
            r"(?:can'?t|cannot|don'?t|do not) feel (?:\w+ ){0,3}"
            r"need to (?:poo|poop|go to the toilet)",
            r"selles?",
            r"intestins?",
            r"incontinence (?:fecale|anale)",
            r"caca (?:sur moi|dans (?:ma|mon) \w+)",
            r"(?:me suis|s' est) (?:fait|fais) dessus",
            r"(?:sens|sent) (?:plus|pas) (?:l' envie|le besoin) d' aller"
            r" (?:a la selle|aux toilettes)",
        ),
        # 4. Both legs.
        "both_legs": (
            r"both (?:of )?(?:my |the )?(?:legs|sides|feet|thighs|calves)",
            r"(?:two|2) legs",
            r"(?:left and right|right and left) legs?",
            r"(?:other|second) leg (?:too|as well|also|now)",
            r"(?:also|too|now|spread\w*|moved|gone|going|went) (?:\w+ ){0,3}(?:other|second) leg",
            r"bilateral\w*",
            r"(?:les |mes )?(?:deux|2) jambes",
            r"des deux cotes",
            r"l' autre jambe (?:aussi|egalement|maintenant|a present|en plus)",
            r"(?:aussi|egalement|maintenant|passe\w*|gagne|atteint|etend\w*|descend\w*|meme)"
            r" (?:\w+ ){0,3}l' autre jambe",
        ),
        # 5. Both legs weak or numb.
        "both_legs_weakness": (
            rf"{_WEAK_EN} (?:\w+ ){{0,3}}(?<!between my )(?<!between the )(?<!between both )legs",
            rf"legs (?:\w+ ){{0,3}}{_WEAK_EN}",
            rf"{_WEAK_FR} (?:\w+ ){{0,3}}(?<!entre les )(?<!entre mes )jambes",
            rf"jambes (?:\w+ ){{0,3}}{_WEAK_FR}",
        ),
        # 6. Sexual function.
        "sexual": (
            r"erect\w*",
            r"ejaculat\w*",
            r"impoten\w*",
            r"can'?t get (?:it up|hard)",
            r"sexual (?:problem|function|feeling|sensation|dysfunction)\w*",
            rf"{_NUMB_EN} (?:\w+ ){{0,3}}(?:penis|vagina|clitoris)",
            rf"(?:penis|vagina|clitoris) (?:\w+ ){{0,3}}{_NUMB_EN}",
            r"ejacul\w*",
            r"impuissan\w*",
            r"bander",
            r"troubles? sexuels?",
            r"(?:sensibilite|sensation) (?:du|de mon|de ma|des|de mes) (?:sexe|penis|vagin|clitoris"
            r"|organes genitaux|parties genitales)",
            rf"(?:penis|vagin|clitoris) (?:\w+ ){{0,3}}{_NUMB_FR}",
        ),
        # 7. Unsteady walking, or spreading weakness or numbness.
        "unsteady": (
            r"unsteady",
            r"wobbly",
            r"(?:losing|lost|lose|keep losing) (?:my )?balance|off balance|no balance",
            r"stagger\w*",
            r"keep falling|keeps falling",
            rf"{_CANT_EN} walk (?:straight|properly|steadily|normally)",
            rf"(?:numb\w*|tingl\w*|weak\w*|pins and needles) (?:\w+ ){{0,3}}{_ARMS_EN}",
            rf"{_ARMS_EN} (?:\w+ ){{0,3}}(?:numb\w*|tingl\w*|weak\w*|pins and needles)",
            r"spreading (?:all over|everywhere|to (?:other|several) places)",
            r"instable",
            r"titub\w*",
            r"(?:perds?|perdu|perte d') (?:l' )?equilibre",
            r"desequilibr\w*",
            rf"{_CANT_FR} marcher (?:droit|normalement|correctement)",
            rf"(?:engourdi\w*|fourmill\w*|picot\w*|faible\w*|faiblesse) (?:\w+ ){{0,3}}{_ARMS_FR}",
            rf"{_ARMS_FR} (?:\w+ ){{0,3}}(?:engourdi\w*|fourmill\w*|faible\w*|insensible\w*)",
        ),
        # 8. One leg getting weaker, or a new foot drop.
        "leg_weakness": (
            r"(?:foot|drop) drop|dropped foot|drop foot",
            r"(?:foot|toes?) (?:\w+ ){0,2}(?:slap\w*|flop\w*|drag\w*|catch\w*|scuff\w*)",
            rf"{_CANT_EN} (?:walk on|stand on) (?:my )?heels?",
            rf"{_CANT_EN} (?:lift|raise|pull up) (?:my )?(?:foot|toes)",
            r"trip\w*",
            r"(?:leg|foot|ankle|knee) (?:\w+ ){0,3}(?:weak\w*|giving way|gave way|give way"
            r"|giving out|gave out|buckl\w*|floppy)",
            r"(?:weak\w*) (?:\w+ ){0,2}(?:leg|foot|ankle)",
            r"pied (?:tombant|qui tombe|qui claque|qui traine|qui accroche|tombe)",
            r"steppage",
            r"(?:orteils?|pointe du pied|pied) (?:\w+ ){0,2}(?:accroch\w*|train\w*|claqu\w*)",
            rf"{_CANT_FR} (?:marcher sur les talons|lever (?:le|mon) pied|relever (?:le|mon) pied)",
            r"trebuch\w*",
            r"(?:jambe|pied|cheville|genou) (?:\w+ ){0,3}(?:faible\w*|lach\w*|se derobe|molle"
            r"|s' affaibli\w*|flanch\w*)",
            r"(?:faiblesse|faible\w*) (?:\w+ ){0,2}(?:jambe|pied|cheville)",
            r"s' affaibli\w*",
        ),
        # 9. Fever, or feeling generally unwell.
        "fever": (
            r"fever\w*",
            r"(?:a |high |got a )temperature",
            r"chills?|shiver\w*|night sweats|sweats|sweating",
            r"(?:feel|feeling|felt) (?:\w+ )?(?:unwell|ill|sick|poorly|rough|awful|terrible)",
            r"hot and cold",
            r"fievr\w*|fiev\w*",
            r"(?:de la |une |avoir |ai )temperature",
            r"frisson\w*|sueurs?|transpir\w*",
            r"(?:me sens|me suis senti\w*) (?:\w+ )?(?:mal|malade|pas bien|patraque|faible)",
            r"malaise",
        ),
        # 10. After a fall, an accident or an injury.
        "injury": (
            r"i fell(?! asleep)|fell (?:over|down|off|on|from|backwards)|had a fall|a bad fall",
            r"after (?:a |the |my )?(?:fall|falling|accident|crash)",
            r"fallen (?:over|down|off)",
            r"slipped",
            r"accident",
            r"car crash|crashed|collision",
            r"injur\w*",
            r"whiplash",
            r"suis tombee?|tombe (?:dans|de|sur|par|en)|une chute|ma chute|apres (?:la|une) chute",
            r"chute",
            r"glisse",
            r"blesse\w*|blessure",
            r"un choc|le choc|apres (?:un|le) choc",
        ),
    }
)


@cache
def _compiled() -> MappingProxyType[str, re.Pattern[str]]:
    """Each sign's phrasings as one pattern, compiled on the first free text (about 50 ms: not
    at start-up)."""
    return MappingProxyType(
        {
            sign: re.compile("|".join(f"(?:\\b{p}\\b)" for p in patterns))
            for sign, patterns in PHRASES.items()
        }
    )


# A negation right before the words rules them out ("no fever", "pas de fièvre").
_NEGATED = re.compile(
    r"(?:\b(?:no|not|without|never|nor|sans|aucune?|ni|pas de|pas d'|plus de|plus d'|no more"
    r"|don'?t have(?: a| any)?|do not have(?: a| any)?|haven'?t got(?: a| any)?"
    r"|n' ai pas(?: de| d')?|n' ai plus(?: de| d')?|n' ai jamais eu(?: de| d')?)) ?$"
)
_CLAUSES = re.compile(r"[.;!?\n]+|,| but | mais ")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})


def normalise(text: str) -> str:
    """Lower case, no accents, one kind of apostrophe, words separated by single spaces (clause
    punctuation is kept for the negation check)."""
    text = unicodedata.normalize("NFKD", text[:_MAX_INPUT].translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = re.sub(r"[^a-z0-9'.;!?,\n]+", " ", text)
    # French elisions as separate words: "n'arrive" -> "n' arrive", "l'autre" -> "l' autre".
    text = re.sub(r"\b([ldnjmstc]|qu|jusqu|lorsqu|puisqu)'(?=[a-z])", r"\1' ", text)
    return re.sub(r" +", " ", text).strip()


def signs_named(text: str) -> tuple[str, ...]:
    """The stop signals (ids of ``bot.domain.safety.SIGNALS``, in their order) that ``text`` may
    name; empty when it names none."""
    clauses = [f" {c.strip()} " for c in _CLAUSES.split(normalise(text)) if c.strip()]
    found = []
    for sign, pattern in _compiled().items():
        if any(_names(pattern, clause) for clause in clauses):
            found.append(sign)
    return tuple(found)


def _names(pattern: re.Pattern[str], clause: str) -> bool:
    for match in pattern.finditer(clause):
        if not _NEGATED.search(clause[: match.start()].rstrip() + " "):
            return True
    return False


def may_be_question(text: str) -> bool:
    """Whether typed text may be a question or a sentence (not a mistyped answer such as "77",
    "7h3" or "Pariss"): a question mark, or at least three words of letters."""
    if "?" in text:
        return True
    return len(re.findall(r"[^\W\d_]{2,}", text)) >= 3
