-- SQLite: the event chain's head follows the events. Each inserted event must link to the
-- head (the next position, the head's hash), or the insert aborts; once inserted, it is the
-- head. An append is then one statement instead of a head update and an insert, and the
-- chain never forks, whoever inserts. (PostgreSQL does the same in one data-modifying WITH
-- under the head's row lock: see store/chain.rs.)
CREATE TRIGGER events_link_to_head BEFORE INSERT ON events
WHEN NOT EXISTS (SELECT 1 FROM event_chain WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash)
BEGIN
    SELECT RAISE(ABORT, 'event chain: not linked to the head');
END;

CREATE TRIGGER events_move_head AFTER INSERT ON events
BEGIN
    UPDATE event_chain SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
END;
