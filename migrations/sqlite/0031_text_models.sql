-- The learning loop of the text models (issue #22, items 2 and 3). Mirrors ../postgres/0031_text_models.sql.

-- A model learned from the city's own history (or a labelled CSV): the category classifier
-- (leaf categories, offered up the taxonomy when unsure) and the lead-unit classifier, with
-- how it was judged. state: candidate (being judged), active (in force, at most one),
-- retired (was in force), rejected (judged no better than the model in force).
CREATE TABLE text_models (
    id                TEXT PRIMARY KEY,
    state             TEXT NOT NULL,
    source            TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    trained_examples  BIGINT NOT NULL,
    -- The held-back weeks both models were judged on: requests created in [eval_from, eval_to).
    eval_from         BIGINT,
    eval_to           BIGINT,
    eval_examples     BIGINT NOT NULL,
    -- Share of held-back requests whose final category (a level the model offered) and lead
    -- unit the model named, for this model and for the one in force when it was judged.
    score             REAL,
    incumbent_id      TEXT,
    incumbent_score   REAL,
    -- Details: per-part figures, the label counts, the reason of the decision.
    metrics           TEXT NOT NULL,
    category_weights  BLOB NOT NULL,
    category_metrics  BLOB NOT NULL,
    unit_weights      BLOB NOT NULL,
    unit_metrics      BLOB NOT NULL,
    -- When it was put in force and the model it replaced (what a rollback restores).
    activated_at      BIGINT,
    previous_id       TEXT
);
CREATE INDEX text_models_state ON text_models (state, activated_at);

-- What the dispatcher finally chose, recorded on the suggestion at each dispatch: whether
-- the suggested lead unit was taken.
ALTER TABLE suggestions ADD COLUMN dispatched_lead TEXT;
ALTER TABLE suggestions ADD COLUMN lead_taken BIGINT;
ALTER TABLE suggestions ADD COLUMN dispatched_at BIGINT;
