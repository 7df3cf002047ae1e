ALTER TABLE incidents DROP COLUMN platform_answer;
ALTER TABLE incidents DROP COLUMN reinstated_on;
ALTER TABLE incidents DROP COLUMN earnings_locked_minor;
ALTER TABLE incidents DROP COLUMN earnings_locked;
