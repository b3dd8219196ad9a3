"""What each view shows, in plain words: Help ▸ What am I looking at? says the one for the
tab in front. One idea per view, as a teacher would say it to a class."""

from __future__ import annotations

EXPLANATIONS: dict[str, str] = {
    "Predictions": (
        "The model reads the whole sentence at once and, at each [MASK], gives a probability to "
        "every word piece it knows. The list shows its top guesses; the bar is the probability. "
        "Each mask is guessed on its own, as BERT was trained to: the best guess for two masks "
        "together may be another pair: the Together box below fills them jointly, each choice read "
        "back before the next, and scores each filling by its pseudo-log-likelihood (higher, closer to 0, "
        "is better). How many tokens? lets one mask stand for a word of several pieces. Click a guess "
        "or a filling to write it into the sentence."
    ),
    "Score": (
        "How likely does the model find a whole sentence? It hides each token in turn and reads how "
        "probable the hidden token was; the sum of those log-probabilities is the sentence's score "
        "(pseudo-log-likelihood, Salazar et al. 2020). Tall bars mark the tokens that surprised it. "
        "Of a minimal pair (The keys ... are / is here.) the higher score is the sentence the model prefers."
    ),
    "Attention": (
        "Each small square is one attention head of the chosen layer. Rows are the token "
        "attending (the query), columns the token attended to (the key); a row sums to 1, so it "
        "shows where that token looks. Average of heads is the mean of all the layer's heads. Rollout "
        "(Abnar & Zuidema 2020) multiplies the averaged layers, adding the residual connection, "
        "to estimate how much each input token flows into each position by this layer. Many "
        "heads park attention on [CLS] and [SEP] when they have nothing better to do: Hide "
        "special tokens renormalises without them. Mask: causal lets each token see only itself and "
        "its left (every weight above the diagonal is 0) and the predictions follow, though BERT was "
        "never trained that way; padding runs two sentences as one batch, and no token attends to a [PAD]."
    ),
    "Internals": (
        "BERT's forward pass, step by step (lab 002), for the sentence and the chosen layer and head: "
        "tokens → ids; word + position + token type embeddings, summed, then LayerNorm; the layer's "
        "input; Q, K, V split into heads; the scores QKᵀ/√d; the mask; softmax (the attention weights); "
        "weights × V; the heads concatenated; dense + residual + LayerNorm; the feed-forward block with "
        "GELU + residual + LayerNorm. Shapes are written B × S × D, B × H × S × d, B × H × S × S. The "
        "tab recomputes every step itself from the weights and checks it against what the model "
        "returns: green when the largest difference is tiny. Across layers: each token's norm and "
        "how much each layer changes it (cosine similarity)."
    ),
    "MLM lab": (
        "How BERT was trained: about 15% of the tokens are chosen; of those, 80% become [MASK], "
        "10% a random token, 10% stay as they are; the model must restore all of them. The loss "
        "is the mean of −log p(true token) over the chosen positions (lower is better; "
        "exp(loss) is the perplexity: how many tokens the model is hesitating between, as it were). "
        "Click a token for its layer lens: the model's guess read after every layer, which shows "
        "where in the network the answer appears."
    ),
    "Generate": (
        "BERT was not built to write, but it can fill masks over and over: start from masks, "
        "pick a position, sample a token from the model's distribution there, repeat (Wang & Cho "
        "2019). Temperature divides the scores before sampling: below 1 the likely tokens win "
        "more often (safer, duller text), above 1 the unlikely ones get more chance (more "
        "surprising, more broken)."
    ),
    "Fine-tune": (
        "Domain adaptation: the same masked-word training, continued on your text, so the model's "
        "guesses move toward its words and style. Perplexity on held-out text, before and after, "
        "says how much better it now predicts text like yours (lower is better)."
    ),
    "LAMA": (
        "LAMA (Petroni et al. 2019) asks the model facts as cloze sentences: \"Dante was born in "
        "[MASK].\" P@1 is the share of facts whose right answer is the top guess, P@10 in the top "
        "10, MRR the mean of 1/rank. LAMA's own protocol ranks only the words of a common "
        "vocabulary shared by the models it compared, so that no model wins by knowing rare "
        "words, and drops facts whose answer is not one token; the lab protocol ranks the whole "
        "vocabulary."
    ),
}


def explain(tab: str) -> str:
    return EXPLANATIONS.get(tab, "")
