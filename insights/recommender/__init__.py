"""The recommender: plain data in (items, interactions), rankings out; no database here.

``model.py`` fits it (item-item cosine on implicit feedback, blended with content similarity of
jieba-segmented text), ``evaluation.py`` measures it against popularity and random on a time split,
``synthetic.py`` generates an interaction log with planted structure for CI, ``data.py`` reads a
deployment's own log into the same shapes.
"""
