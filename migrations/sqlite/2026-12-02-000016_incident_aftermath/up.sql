-- What workers need after an incident: locked earnings, reinstatement, the platform's answer.
ALTER TABLE incidents ADD COLUMN earnings_locked BOOLEAN;
ALTER TABLE incidents ADD COLUMN earnings_locked_minor BIGINT CHECK (earnings_locked_minor >= 0);
ALTER TABLE incidents ADD COLUMN reinstated_on DATE;
ALTER TABLE incidents ADD COLUMN platform_answer TEXT;
