# Convenience wrappers; the scripts work without make.
.PHONY: run test ci
run:
	scripts/run
test:
	scripts/test
ci:
	bash .ci/run
