"""The recommender must beat popularity by a clear margin on a log with planted structure."""

from django.core.management import call_command

from insights.recommender import evaluation, synthetic


def test_the_recommender_beats_popularity_and_random_on_planted_structure():
    catalogue, log, end = synthetic.generate(buyers=700, items=240, seed=11)
    rows = {(row.method, row.cohort): row for row in evaluation.evaluate(catalogue, log, test_days=14, end=end)}
    ours, popular, rand = rows["recommender", "all"], rows["popular", "all"], rows["random", "all"]
    assert ours.recall >= 2 * popular.recall and ours.ndcg >= 2 * popular.ndcg, (ours, popular)
    assert popular.recall > rand.recall
    assert rows["recommender", "returning"].recall >= 2 * rows["popular", "returning"].recall
    assert rows["recommender", "new"].recall >= rows["popular", "new"].recall * 0.9  # cold start: no worse


def test_the_command_prints_the_table(capsys):
    call_command("insights_evaluate", "--synthetic", "--buyers", "150", "--products", "80", "--test-days", "14")
    out = capsys.readouterr().out
    assert "| recommender | all |" in out and "| popular | all |" in out and "| random | all |" in out
